{# The lake's Delta tables are read in place. On DuckDB the delta extension ships in a PyPI package
   and is loaded from its file, since INSTALL would download it. #}
{% macro load_lake_extension() -%}
    {%- set extension = env_var("LAKEHOUSE_DUCKDB_DELTA_EXTENSION", "") -%}
    {%- if target.type == 'duckdb' -%}
        {%- if execute and not extension -%}
            {{ exceptions.raise_compiler_error(
                "LAKEHOUSE_DUCKDB_DELTA_EXTENSION is not set: run dbt through the orchestrator or `make dbt`, "
                ~ "which point it at the delta extension shipped in the duckdb-extension-delta package.") }}
        {%- endif -%}
        LOAD '{{ extension }}'
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro lake_table(name) -%}
    {%- if target.type == 'duckdb' -%}
        delta_scan('{{ env_var("LAKEHOUSE_LAKE_URI", "../data/lake") }}/silver/{{ name }}')
    {%- else -%}
        {{ env_var("LAKEHOUSE_SILVER_SCHEMA", "silver") }}.{{ name }}
    {%- endif -%}
{%- endmacro %}
