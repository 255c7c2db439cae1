from extension import create_app

app = create_app()
