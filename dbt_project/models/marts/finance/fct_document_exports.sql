with

exports as (select * from {{ ref('stg_lake__document_exports') }}),

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
