"""TimescaleDB: versioned migrations, the readings hypertable, edition detection."""
