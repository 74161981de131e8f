"""Bronze to silver: pure Ibis functions per entity, run by an engine over the lake."""
