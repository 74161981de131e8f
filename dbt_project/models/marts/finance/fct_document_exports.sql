{# A rebuilt day is replaced whole (macros/incremental_window.sql), so a format that vanished from
   a day's source does not linger. #}
{{ config(materialized='incremental', incremental_strategy='replace_window', unique_key='export_date',
          on_schema_change='fail') }}

with

exports as (
    select * from {{ ref('stg_lake__document_exports') }}
    {% if is_incremental() %}where {{ incremental_window('event_date', 'export_date') }}{% endif %}
),

per_day_and_format as (
    select
        event_date as export_date,
        coalesce(export_format, 'unknown') as export_format,
        count(*) as exports,
        count(distinct document_id) as documents,
        count(distinct user_id) as exporting_users
    from exports
    group by event_date, coalesce(export_format, 'unknown')
)

select
    cast(export_date as date) as export_date,
    cast(export_format as varchar) as export_format,
    cast(exports as bigint) as exports,
    cast(documents as bigint) as documents,
    cast(exporting_users as bigint) as exporting_users
from per_day_and_format
