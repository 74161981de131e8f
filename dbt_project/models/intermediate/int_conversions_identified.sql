{# Conversions (METRICS.md, Marketing: Conversion), two types:
   - paid: a customer starts paying (a subscription without trial starts, or a trial ends and the
     subscription runs on) while paying for nothing else and after at least 90 days without paying,
     or for the first time ever. A customer who churns and comes back after 90 days converts again.
   - signup: an account created in the tracked period (from the first day with events on), at the
     account's creation time; earlier accounts have no touches to attribute. #}
with

subscriptions as (select * from {{ ref('stg_lake__subscriptions') }}),
plans as (select * from {{ ref('stg_lake__plans') }}),
users as (select * from {{ ref('stg_lake__users_history') }}),
days as (select * from {{ ref('int_days_spined') }}),

tracked_period as (
    select
        cast(min(calendar_date) as {{ dbt.type_timestamp() }}) as tracked_from,
        cast({{ dbt.dateadd('day', 1, 'max(calendar_date)') }} as {{ dbt.type_timestamp() }}) as data_end
    from days
),

-- A subscriptions row is paid for from its start, or from the end of its trial, to its end. A trial
-- that expires ends the row at the trial's end, so it is never paid for.
paid_periods as (
    select
        subscriptions.subscription_id,
        subscriptions.customer_id,
        plans.product,
        cast(
            case
                when subscriptions.trial_end > subscriptions.started_at then subscriptions.trial_end
                else subscriptions.started_at
            end as {{ dbt.type_timestamp() }}
        ) as paid_from,
        cast(subscriptions.ended_at as {{ dbt.type_timestamp() }}) as paid_until
    from subscriptions
    left join plans on subscriptions.plan_id = plans.plan_id
),

paid_rows as (
    select paid_periods.*
    from paid_periods
    cross join tracked_period
    where paid_periods.paid_from < tracked_period.data_end
        and (paid_periods.paid_until is null or paid_periods.paid_until > paid_periods.paid_from)
),

-- A row does not convert when the customer paid for another row (a plan change, another product)
-- that started before it and ran until less than 90 days before it starts.
continued_rows as (
    select distinct later.subscription_id
    from paid_rows as later
    inner join paid_rows as earlier
        on earlier.customer_id = later.customer_id
        and earlier.subscription_id <> later.subscription_id
        and (
            earlier.paid_from < later.paid_from
            or (earlier.paid_from = later.paid_from and earlier.subscription_id < later.subscription_id)
        )
        and (
            earlier.paid_until is null
            or earlier.paid_until > {{ dbt.dateadd('day', -90, 'later.paid_from') }}
        )
),

paid_conversions as (
    select
        paid_rows.customer_id as user_id,
        paid_rows.paid_from as converted_at,
        paid_rows.subscription_id,
        paid_rows.product
    from paid_rows
    left join continued_rows on paid_rows.subscription_id = continued_rows.subscription_id
    where continued_rows.subscription_id is null
),

signups as (
    select
        users.user_id,
        min(users.created_at) as converted_at
    from users
    group by users.user_id
),

conversions as (
    select
        'paid' as conversion_type,
        user_id,
        converted_at,
        subscription_id,
        product
    from paid_conversions

    union all

    select
        'signup' as conversion_type,
        signups.user_id,
        signups.converted_at,
        cast(null as {{ dbt.type_string() }}) as subscription_id,
        cast(null as {{ dbt.type_string() }}) as product
    from signups
    cross join tracked_period
    where signups.converted_at >= tracked_period.tracked_from
        and signups.converted_at < tracked_period.data_end
),

numbered as (
    select
        conversions.*,
        cast(converted_at as date) as conversion_date,
        row_number() over (
            partition by conversion_type, user_id order by converted_at
        ) as conversion_number
    from conversions
)

select
    case conversion_type
        when 'paid' then 'cv_' || user_id || '_' || cast(conversion_date as {{ dbt.type_string() }})
        else 'su_' || user_id
    end as conversion_id,
    conversion_type,
    user_id,
    converted_at,
    conversion_date,
    subscription_id,
    product,
    conversion_number,
    conversion_type = 'paid' and conversion_number = 1 as is_new_customer
from numbered
