{# Every month whose last day has passed by the last day of data, from the first subscription's month. #}
with recursive

bounds as (
    select
        cast({{ dbt.date_trunc('month', 'min(started_at)') }} as date) as first_month,
        (select max(calendar_date) from {{ ref('int_days_spined') }}) as as_of_date
    from {{ ref('stg_lake__subscriptions') }}
),

-- Redshift needs the column list of a recursive CTE
months (month_start, as_of_date) as (
    select first_month, as_of_date from bounds
    union all
    select cast({{ dbt.dateadd('month', 1, 'month_start') }} as date), as_of_date
    from months
    where month_start < as_of_date
)

select
    month_start,
    cast({{ dbt.last_day('month_start', 'month') }} as date) as month_end
from months
where cast({{ dbt.last_day('month_start', 'month') }} as date) <= as_of_date
