"""Grafana dashboards as code: ``dashboards.py`` defines them, ``scada dashboards`` writes
``deploy/grafana/dashboards/*.json``; the tests require the files to match and every
panel's query to return a series from a live Prometheus."""
