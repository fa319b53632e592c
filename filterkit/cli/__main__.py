from filterkit.cli import app

app(prog_name="filterkit")
