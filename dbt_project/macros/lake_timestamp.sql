{# A silver timestamp as a UTC `timestamp` without zone, whatever the session's time zone: METRICS.md
   counts days and months in UTC, and day arithmetic on a zoned value would follow its zone's
   daylight saving. Silver stores instants (Arrow timestamps in UTC). DuckDB reads them as zoned
   values and its profile keeps the session in UTC; the PostgreSQL copy holds `timestamptz`, which a
   cast would read in the session's zone; Redshift Spectrum reads them as UTC timestamps already. #}
{% macro lake_timestamp(column) -%}
    {{ return(adapter.dispatch('lake_timestamp')(column)) }}
{%- endmacro %}

{% macro default__lake_timestamp(column) -%}
    cast({{ column }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro postgres__lake_timestamp(column) -%}
    ({{ column }} at time zone 'UTC')
{%- endmacro %}

{# dbt-redshift falls back on postgres__ macros: Spectrum's timestamps have no zone to convert from. #}
{% macro redshift__lake_timestamp(column) -%}
    {{ default__lake_timestamp(column) }}
{%- endmacro %}
