"""HTTP: the Starlette app, the route table, the OpenAPI document and the views the kiosk sees."""
