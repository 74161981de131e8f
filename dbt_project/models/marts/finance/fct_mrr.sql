with

items as (select * from {{ ref('int_subscription_items_converted') }}),
subscriptions as (select * from {{ ref('stg_lake__subscriptions') }}),
month_ends as (select * from {{ ref('int_month_ends_spined') }}),

customers as (
    select customer_id, cast({{ dbt.date_trunc('month', 'min(started_at)') }} as date) as first_month
    from subscriptions
    group by customer_id
),

-- every month from the customer's first subscription to the last month that has ended, MRR or not
customer_months as (
    select customers.customer_id, month_ends.month_start, month_ends.month_end
    from customers
    inner join month_ends on month_ends.month_start >= customers.first_month
),

per_customer as (
    select
        items.customer_id,
        items.month_start,
        sum(items.mrr_usd) as mrr,
        sum(items.list_mrr_usd) as list_mrr,
        count(distinct items.currency) as currencies,
        min(items.currency) as any_currency,
        sum(items.mrr_local) as mrr_local,
        sum(items.list_mrr_local) as list_mrr_local
    from items
    group by items.customer_id, items.month_start
)

select
    cast(customer_months.customer_id as varchar) as customer_id,
    cast(customer_months.month_start as date) as month,
    cast(customer_months.month_end as date) as snapshot_date,
    -- a missing FX rate leaves MRR null (and fails its test) instead of counting as zero
    cast(case when per_customer.customer_id is null then 0 else per_customer.mrr end as double precision)
        as mrr,
    cast(case when per_customer.customer_id is null then 0 else per_customer.list_mrr end as double precision)
        as list_mrr,
    cast(12 * case when per_customer.customer_id is null then 0 else per_customer.mrr end as double precision)
        as arr,
    cast(case when per_customer.currencies = 1 then per_customer.any_currency end as varchar) as currency,
    cast(case when per_customer.currencies = 1 then per_customer.mrr_local end as double precision) as mrr_local,
    cast(case when per_customer.currencies = 1 then per_customer.list_mrr_local end as double precision)
        as list_mrr_local
from customer_months
left join per_customer
    on per_customer.customer_id = customer_months.customer_id
    and per_customer.month_start = customer_months.month_start
