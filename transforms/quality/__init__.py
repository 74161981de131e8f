"""Quality gates of the silver tables: declared suites, validated with Great Expectations, results kept."""
