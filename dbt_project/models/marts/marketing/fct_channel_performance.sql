with

attribution as (select * from {{ ref('fct_attribution') }}),
spend as (select * from {{ ref('stg_lake__ad_spend') }}),
models as (select * from {{ ref('attribution_models') }}),

spend_per_day as (
    select
        spend_date as activity_date,
        channel,
        coalesce(campaign, '(none)') as campaign,
        sum(amount_usd) as spend_usd
    from spend
    group by spend_date, channel, coalesce(campaign, '(none)')
),

attributed_per_day as (
    select
        conversion_date as activity_date,
        channel,
        coalesce(campaign, '(none)') as campaign,
        attribution_model,
        sum(case when conversion_type = 'paid' then weight else 0 end) as attributed_conversions,
        sum(case when conversion_type = 'paid' and is_new_customer then weight else 0 end)
            as attributed_new_customers,
        sum(case when conversion_type = 'signup' then weight else 0 end) as attributed_signups,
        sum(case when conversion_type = 'paid' then attributed_value_usd else 0 end) as attributed_value_usd,
        sum(case when conversion_type = 'paid' and is_window_open then attributed_value_usd else 0 end)
            as attributed_open_value_usd
    from attribution
    group by conversion_date, channel, coalesce(campaign, '(none)'), attribution_model
),

grain as (
    select spend_per_day.activity_date, spend_per_day.channel, spend_per_day.campaign, models.attribution_model
    from spend_per_day
    cross join models

    union

    select activity_date, channel, campaign, attribution_model
    from attributed_per_day
),

joined as (
    select
        grain.activity_date,
        grain.channel,
        grain.campaign,
        grain.attribution_model,
        coalesce(spend_per_day.spend_usd, 0) as spend_usd,
        coalesce(attributed_per_day.attributed_conversions, 0) as attributed_conversions,
        coalesce(attributed_per_day.attributed_new_customers, 0) as attributed_new_customers,
        coalesce(attributed_per_day.attributed_signups, 0) as attributed_signups,
        coalesce(attributed_per_day.attributed_value_usd, 0) as attributed_value_usd,
        coalesce(attributed_per_day.attributed_open_value_usd, 0) as attributed_open_value_usd
    from grain
    left join spend_per_day
        on grain.activity_date = spend_per_day.activity_date
        and grain.channel = spend_per_day.channel
        and grain.campaign = spend_per_day.campaign
    left join attributed_per_day
        on grain.activity_date = attributed_per_day.activity_date
        and grain.channel = attributed_per_day.channel
        and grain.campaign = attributed_per_day.campaign
        and grain.attribution_model = attributed_per_day.attribution_model
)

select
    cast(activity_date as date) as activity_date,
    cast(channel as {{ dbt.type_string() }}) as channel,
    cast(campaign as {{ dbt.type_string() }}) as campaign,
    cast(attribution_model as {{ dbt.type_string() }}) as attribution_model,
    cast(spend_usd as double precision) as spend_usd,
    cast(attributed_conversions as double precision) as attributed_conversions,
    cast(attributed_new_customers as double precision) as attributed_new_customers,
    cast(attributed_signups as double precision) as attributed_signups,
    cast(attributed_value_usd as double precision) as attributed_value_usd,
    cast(attributed_open_value_usd as double precision) as attributed_open_value_usd,
    cast(attributed_value_usd / nullif(spend_usd, 0) as double precision) as roas,
    cast(spend_usd / nullif(attributed_conversions, 0) as double precision) as cpa,
    cast(spend_usd / nullif(attributed_new_customers, 0) as double precision) as cac
from joined
