{# MRR per customer, product and month-end snapshot: the subscription items of
   int_subscription_items_converted (after recurring discounts, and list, in USD as fct_mrr sums them)
   by the product of their plan, so that the products of a customer sum to its fct_mrr row. Only
   customers and products with an item counting on the snapshot have a row. #}
with

items as (select * from {{ ref('int_subscription_items_converted') }}),
subscriptions as (select * from {{ ref('stg_lake__subscriptions') }}),
plans as (select * from {{ ref('stg_lake__plans') }}),

items_with_product as (
    select
        items.customer_id,
        plans.product,
        items.month_start,
        items.mrr_usd,
        items.list_mrr_usd
    from items
    inner join subscriptions on items.subscription_id = subscriptions.subscription_id
    inner join plans on subscriptions.plan_id = plans.plan_id
)

select
    customer_id,
    product,
    month_start as month,
    sum(mrr_usd) as mrr,
    sum(list_mrr_usd) as list_mrr
from items_with_product
group by customer_id, product, month_start
