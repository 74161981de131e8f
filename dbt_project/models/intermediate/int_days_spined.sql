{# Every day from the first to the last day with events: the calendar the daily marts are built on. #}
with recursive

bounds as (
    select min(event_date) as first_day, max(event_date) as last_day
    from {{ ref('stg_lake__events') }}
),

-- Redshift needs the column list of a recursive CTE
days (calendar_date, last_day) as (
    select first_day, last_day from bounds
    union all
    select cast({{ dbt.dateadd('day', 1, 'calendar_date') }} as date), last_day
    from days
    where calendar_date < last_day
)

select calendar_date
from days
