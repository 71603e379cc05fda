"""Training: walk-forward validated models registered as model versions.

Modules import their heavy libraries (numpy, pandas, lightgbm) themselves, so importing
this package stays cheap for the operator and the CLI.
"""
