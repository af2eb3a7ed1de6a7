"""Ingest gateway: stations POST readings over HTTP; accepted batches go to Kafka.

Where a reading enters the pipeline. A 202 means Kafka acknowledged every
record with ``acks=all``; nothing is written to the database here.
"""
