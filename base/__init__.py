"""Shared platform of scada-pipeline: settings, errors, storage, Kafka admin, local stack, CLI."""
