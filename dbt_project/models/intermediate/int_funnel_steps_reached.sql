{# Each visitor's way down the funnel (METRICS.md, Marketing: Funnel): first visit (first touchpoint)
   → signup → activation (first lesson completed, content generated or document exported) → paid
   (a paid conversion), each step counted only when it comes at or after the previous one and within
   30 days of it. Visit, signup and activation times are those the person's device reported, so the
   steps compare on one clock; paid is the billing system's time. #}
with

touchpoints as (select * from {{ ref('stg_lake__touchpoints') }}),
events as (select * from {{ ref('stg_lake__events') }}),
conversions as (select * from {{ ref('int_conversions_identified') }}),

visits as (
    select
        coalesce(user_id, anonymous_id) as person_key,
        user_id,
        touchpoint_id,
        cast(touched_at as {{ dbt.type_timestamp() }}) as touched_at,
        channel
    from touchpoints
),

numbered_visits as (
    select
        visits.*,
        row_number() over (partition by person_key order by touched_at, touchpoint_id) as visit_number
    from visits
),

first_visits as (
    select person_key, user_id, touched_at as first_visit_at, channel
    from numbered_visits
    where visit_number = 1
),

signup_events as (
    select user_id, min(cast(occurred_at as {{ dbt.type_timestamp() }})) as signed_up_at
    from events
    where event_type = 'signup' and user_id is not null
    group by user_id
),

activation_events as (
    select user_id, cast(occurred_at as {{ dbt.type_timestamp() }}) as activated_at
    from events
    where event_type in ('lesson_completed', 'content_generated', 'document_exported')
        and user_id is not null
),

paid_conversions as (
    select user_id, converted_at as paid_at
    from conversions
    where conversion_type = 'paid'
),

signed_up as (
    select
        first_visits.person_key,
        first_visits.user_id,
        signup_events.signed_up_at
    from first_visits
    inner join signup_events
        on signup_events.user_id = first_visits.user_id
        and signup_events.signed_up_at >= first_visits.first_visit_at
        and signup_events.signed_up_at <= {{ dbt.dateadd('day', 30, 'first_visits.first_visit_at') }}
),

activated as (
    select
        signed_up.person_key,
        signed_up.user_id,
        min(activation_events.activated_at) as activated_at
    from signed_up
    inner join activation_events
        on activation_events.user_id = signed_up.user_id
        and activation_events.activated_at >= signed_up.signed_up_at
        and activation_events.activated_at <= {{ dbt.dateadd('day', 30, 'signed_up.signed_up_at') }}
    group by signed_up.person_key, signed_up.user_id
),

paid as (
    select
        activated.person_key,
        min(paid_conversions.paid_at) as paid_at
    from activated
    inner join paid_conversions
        on paid_conversions.user_id = activated.user_id
        and paid_conversions.paid_at >= activated.activated_at
        and paid_conversions.paid_at <= {{ dbt.dateadd('day', 30, 'activated.activated_at') }}
    group by activated.person_key
)

select
    first_visits.person_key,
    first_visits.user_id,
    first_visits.channel,
    first_visits.first_visit_at,
    cast({{ dbt.date_trunc('week', 'first_visits.first_visit_at') }} as date) as cohort_week,
    signed_up.signed_up_at,
    activated.activated_at,
    paid.paid_at
from first_visits
left join signed_up on first_visits.person_key = signed_up.person_key
left join activated on first_visits.person_key = activated.person_key
left join paid on first_visits.person_key = paid.person_key
