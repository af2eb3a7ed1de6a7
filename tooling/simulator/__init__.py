"""``scada simulate``: automatic weather stations posting through the gateway like real loggers."""
