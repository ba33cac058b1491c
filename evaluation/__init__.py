"""Evaluation: typing logs (`typing_log`, the format of docs/TYPING_LOG.md), the simulated
user's replay (`replay`), its metrics (`metrics`), and the peer IMEs (`peers`) for `compare`.
Installed with the package; above the engine, below the UI and the command line."""
