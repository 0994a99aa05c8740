"""The workbench's routes, one module per area; `tawazun.web.app.create_app` includes them."""
