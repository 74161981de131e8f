{# The days an incremental run rebuilds, as a predicate on `column` (a date).

   Dagster passes a partition window as the vars `min_date` and `max_date` (YYYY-MM-DD, both days
   included). Without them (a plain `dbt build`, an unpartitioned Dagster run) the run rebuilds from
   `incremental_lookback_days` days before the last day already built through every newer day: events
   arrive up to 7 days late, so the default of 7 catches them. `extend_back_days` widens the start for
   inputs that output days look back on (a 28-day active-user window reads 27 earlier days).
   `built_column` is the date column of the model itself, read from the table already built. #}
{% macro incremental_window(column, built_column, extend_back_days=0) -%}
    {%- set min_date = var('min_date', none) -%}
    {%- set max_date = var('max_date', none) -%}
    {%- if (min_date is none) != (max_date is none) -%}
        {{ exceptions.raise_compiler_error(
            "Set both vars min_date and max_date (the days to rebuild, e.g. --vars "
            ~ "'{min_date: 2026-01-01, max_date: 2026-01-07}'), or neither to rebuild the last "
            ~ "incremental_lookback_days days.") }}
    {%- endif -%}
    {%- if min_date is not none -%}
        {%- set first_day = _incremental_window_day('min_date', min_date) -%}
        {%- set last_day = _incremental_window_day('max_date', max_date) -%}
        {%- if first_day > last_day -%}
            {{ exceptions.raise_compiler_error(
                "var min_date (" ~ first_day ~ ") is after max_date (" ~ last_day ~ "): swap them.") }}
        {%- endif -%}
        {%- set read_from = first_day - modules.datetime.timedelta(days=extend_back_days) -%}
        {{ column }} between cast('{{ read_from }}' as date) and cast('{{ last_day }}' as date)
    {%- else -%}
        {%- set lookback = var('incremental_lookback_days', 7) -%}
        {%- if lookback is not integer or lookback < 0 -%}
            {{ exceptions.raise_compiler_error(
                "var incremental_lookback_days must be a whole number of days, 0 or more (got "
                ~ lookback ~ "), e.g. --vars '{incremental_lookback_days: 7}'.") }}
        {%- endif -%}
        {%- set last_built = 'max(' ~ built_column ~ ')' -%}
        ({{ column }} >= (
            select cast({{ dbt.dateadd('day', -(lookback + extend_back_days), last_built) }} as date)
            from {{ this }}
        )
        or not exists (select 1 from {{ this }}))
    {%- endif -%}
{%- endmacro %}

{% macro _incremental_window_day(name, value) -%}
    {%- set text = value | string -%}
    {%- set parts = modules.re.match('^([0-9]{4})-([0-9]{2})-([0-9]{2})$', text) -%}
    {%- set year, month, day = (parts.groups() | map('int') | list) if parts else (0, 0, 0) -%}
    {%- if not (parts and 1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)) -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a day as YYYY-MM-DD (got '" ~ text ~ "').") }}
    {%- endif -%}
    {{- return(modules.datetime.date(year, month, day)) -}}
{%- endmacro %}

{% macro _days_in_month(year, month) -%}
    {%- set first_of_next = modules.datetime.date(year + month // 12, month % 12 + 1, 1) -%}
    {{- return((first_of_next - modules.datetime.timedelta(days=1)).day) -}}
{%- endmacro %}

{# Incremental strategy `replace_window`: the model's window of days is replaced whole. Its rows are
   deleted (every day of the window, and any day the new batch holds) and the batch is inserted, so a
   day whose source rows all vanished loses its old rows too, which delete+insert keyed on the day
   would keep. `unique_key` names the model's day column. Plain DELETE and INSERT, the same on DuckDB,
   PostgreSQL and Redshift; dbt runs them in the model's transaction. #}
{% macro get_incremental_replace_window_sql(arg_dict) -%}
    {%- set day_column = arg_dict['unique_key'] -%}
    {%- if day_column is not string -%}
        {{ exceptions.raise_compiler_error(
            "incremental_strategy 'replace_window' needs unique_key set to the model's one day column, "
            ~ "e.g. unique_key='activity_date' (got " ~ day_column ~ ").") }}
    {%- endif -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set batch = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ incremental_window(day_column, day_column) }}
        or {{ day_column }} in (select {{ day_column }} from {{ batch }});
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ batch }}
{%- endmacro %}
