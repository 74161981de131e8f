with

items as (select * from {{ ref('int_subscription_items_monthly') }}),
fx_rates as (select * from {{ ref('stg_lake__fx_rates') }}),
month_ends as (select * from {{ ref('int_month_ends_spined') }}),

customers as (
    select customer_id, cast({{ dbt.date_trunc('month', 'min(started_at)') }} as date) as first_month
    from {{ ref('stg_lake__subscriptions') }}
    group by customer_id
),

customer_months as (
    select customers.customer_id, month_ends.month_start, month_ends.month_end
    from customers
    inner join month_ends on month_ends.month_start >= customers.first_month
),

items_usd as (
    select
        items.customer_id,
        items.month_start,
        items.currency,
        items.monthly_amount,
        items.monthly_amount * fx_rates.rate_to_usd as monthly_amount_usd
    from items
    left join fx_rates
        on fx_rates.rate_date = items.month_end
        and fx_rates.currency = items.currency
),

per_customer as (
    select
        customer_id,
        month_start,
        sum(monthly_amount_usd) as mrr,
        count(distinct currency) as currencies,
        min(currency) as any_currency,
        sum(monthly_amount) as amount_local
    from items_usd
    group by customer_id, month_start
)

select
    cast(customer_months.customer_id as varchar) as customer_id,
    cast(customer_months.month_start as date) as month,
    cast(customer_months.month_end as date) as snapshot_date,
    -- a missing FX rate leaves MRR null (and fails its test) instead of counting as zero
    cast(case when per_customer.customer_id is null then 0 else per_customer.mrr end as double) as mrr,
    -- no recurring discounts exist in the sources yet, so list MRR equals MRR
    cast(case when per_customer.customer_id is null then 0 else per_customer.mrr end as double) as list_mrr,
    cast(12 * case when per_customer.customer_id is null then 0 else per_customer.mrr end as double) as arr,
    cast(case when per_customer.currencies = 1 then per_customer.any_currency end as varchar) as currency,
    cast(case when per_customer.currencies = 1 then per_customer.amount_local end as double) as mrr_local
from customer_months
left join per_customer
    on per_customer.customer_id = customer_months.customer_id
    and per_customer.month_start = customer_months.month_start
