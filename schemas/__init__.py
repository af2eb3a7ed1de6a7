"""The contract: every Kafka topic and every message model, declared once.

Services import topics from here (``from schemas.topics import READINGS``);
no topic name is spelled anywhere else. Analytics consumers get the same
contract as JSON Schema through ``scada schemas export DIR``.
"""
