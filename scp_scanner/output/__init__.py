"""What scp-scanner writes: the CSV row schema, CSV writers, image export."""
