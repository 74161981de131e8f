with

steps as (select * from {{ ref('int_funnel_steps_reached') }}),
days as (select * from {{ ref('int_days_spined') }}),

data_end as (
    select cast({{ dbt.dateadd('day', 1, 'max(calendar_date)') }} as {{ dbt.type_timestamp() }}) as data_end
    from days
),

cohorts as (
    select
        cohort_week,
        channel,
        count(*) as visitors,
        count(signed_up_at) as signups,
        count(activated_at) as activated,
        count(paid_at) as paid
    from steps
    group by cohort_week, channel
)

select
    cast(cohorts.cohort_week as date) as cohort_week,
    cast(cohorts.channel as {{ dbt.type_string() }}) as channel,
    cast(cohorts.visitors as {{ dbt.type_bigint() }}) as visitors,
    cast(cohorts.signups as {{ dbt.type_bigint() }}) as signups,
    cast(cohorts.activated as {{ dbt.type_bigint() }}) as activated,
    cast(cohorts.paid as {{ dbt.type_bigint() }}) as paid,
    cast(cohorts.signups as double precision) / nullif(cohorts.visitors, 0) as signup_rate,
    cast(cohorts.activated as double precision) / nullif(cohorts.signups, 0) as activation_rate,
    cast(cohorts.paid as double precision) / nullif(cohorts.activated, 0) as paid_rate,
    cast(cohorts.paid as double precision) / nullif(cohorts.visitors, 0) as visitor_to_paid_rate,
    cast(
        {{ dbt.dateadd('day', 97, 'cohorts.cohort_week') }} > data_end.data_end as {{ dbt.type_boolean() }}
    ) as is_open
from cohorts
cross join data_end
