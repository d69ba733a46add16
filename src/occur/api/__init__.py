"""HubSpot's wire format: paths, camelCase JSON, status codes and error bodies."""
