"""The silver quality suites as Dagster asset checks."""
