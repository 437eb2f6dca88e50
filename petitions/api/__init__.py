"""The public read API (/api/v1), the OSDI signing API (/api/osdi/v1) and API tokens."""
