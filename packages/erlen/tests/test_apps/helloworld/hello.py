from __future__ import annotations

from erlen import Erlen

app = Erlen(__name__)


@app.route("/")
def hello() -> str:
    return "Hello World!"


@app.cli.command("greet")
def greet() -> None:
    print("Hello from the helloworld app!")
