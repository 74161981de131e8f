{# A rebuilt day is replaced whole (macros/incremental_window.sql), so a model that vanished from
   a day's source does not linger. #}
{{ config(materialized='incremental', incremental_strategy='replace_window', unique_key='usage_date',
          on_schema_change='fail') }}

with

generations as (
    select * from {{ ref('stg_lake__ai_generations') }}
    {% if is_incremental() %}where {{ incremental_window('event_date', 'usage_date') }}{% endif %}
),

per_model as (
    select
        event_date as usage_date,
        product,
        coalesce(model, 'unknown') as model,
        count(*) as generations,
        sum(case when is_success then 1 else 0 end) as successes,
        percentile_cont(0.5) within group (order by latency_ms) as latency_p50_ms,
        percentile_cont(0.95) within group (order by latency_ms) as latency_p95_ms,
        sum(tokens) as tokens,
        sum(cost_usd) as cost_usd,
        count(*) - count(cost_usd) as unpriced_generations,
        count(distinct user_id) as active_customers
    from generations
    group by event_date, product, coalesce(model, 'unknown')
),

per_product as (
    -- every model of the product together: distinct customers are not a sum over models
    select
        event_date as usage_date,
        product,
        'all' as model,
        count(*) as generations,
        sum(case when is_success then 1 else 0 end) as successes,
        percentile_cont(0.5) within group (order by latency_ms) as latency_p50_ms,
        percentile_cont(0.95) within group (order by latency_ms) as latency_p95_ms,
        sum(tokens) as tokens,
        sum(cost_usd) as cost_usd,
        count(*) - count(cost_usd) as unpriced_generations,
        count(distinct user_id) as active_customers
    from generations
    group by event_date, product
),

usage as (
    select * from per_model
    union all
    select * from per_product
)

select
    cast(usage_date as date) as usage_date,
    cast(product as varchar) as product,
    cast(model as varchar) as model,
    cast(generations as bigint) as generations,
    cast(successes as bigint) as successes,
    cast(1.0 * successes / nullif(generations, 0) as double precision) as success_rate,
    cast(latency_p50_ms as double precision) as latency_p50_ms,
    cast(latency_p95_ms as double precision) as latency_p95_ms,
    cast(tokens as bigint) as tokens,
    cast(1.0 * tokens / nullif(generations, 0) as double precision) as tokens_per_generation,
    cast(cost_usd as double precision) as cost_usd,
    cast(unpriced_generations as bigint) as unpriced_generations,
    cast(cost_usd / nullif(generations, 0) as double precision) as cost_per_generation,
    cast(active_customers as bigint) as active_customers,
    cast(cost_usd / nullif(active_customers, 0) as double precision) as cost_per_active_customer
from usage
