"""Stream processors: consume accepted readings from Kafka and store them in TimescaleDB.

Where a reading is stored: batches are written with COPY, deduplicated on
(station, sensor, ts), rolled up, and their offsets committed only after the
database transaction commits.
"""
