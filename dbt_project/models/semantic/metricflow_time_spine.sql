{# The day calendar dbt's semantic layer joins metrics to: the configured range (vars time_spine_start and
   time_spine_end) and every day the data covers, should a world lie outside that range. dbt.date_spine
   builds the range from cross joins, so the same SQL runs on DuckDB, PostgreSQL and Redshift. #}
{{ config(materialized='table', schema='semantic') }}

with configured as (
    {{ dbt.date_spine(
        datepart="day",
        start_date="cast('" ~ var('time_spine_start', '2015-01-01') ~ "' as date)",
        end_date="cast('" ~ var('time_spine_end', '2036-01-01') ~ "' as date)"
    ) }}
),

data_days as (
    select calendar_date from {{ ref('int_days_spined') }}
)

select cast(date_day as date) as date_day from configured
union
select calendar_date as date_day from data_days
