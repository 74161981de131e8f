{# Unit economics per month and product, and for all products together (product = 'all').
   Per product, MRR movements are taken on the customer's MRR in that product (a customer moving from
   one product to another churns from the first and is new to the second); for 'all' they are
   fct_mrr_movements, on the customer's total. Sales and marketing spend is ad spend, which names no
   product: CAC and its payback exist for 'all' only. #}
with

revenue as (select * from {{ ref('fct_revenue_recognition') }}),
cogs as (select * from {{ ref('fct_cogs') }}),
product_mrr as (select * from {{ ref('int_product_mrr_monthly') }}),
mrr as (select * from {{ ref('fct_mrr') }}),
mrr_movements as (select * from {{ ref('fct_mrr_movements') }}),
ad_spend as (select * from {{ ref('stg_lake__ad_spend') }}),
month_ends as (select * from {{ ref('int_month_ends_spined') }}),

products as (
    select product from revenue
    union
    select product from cogs
    union
    select product from product_mrr
),

spine as (
    select month_ends.month_start as month, products.product
    from month_ends
    cross join products
    union all
    select month_start as month, 'all' as product
    from month_ends
),

recognized as (
    select month, product, sum(recognized_usd) as recognized_revenue_usd
    from revenue
    group by month, product
    union all
    select month, 'all' as product, sum(recognized_usd) as recognized_revenue_usd
    from revenue
    group by month
),

costs as (
    select month, product, cogs_usd
    from cogs
    union all
    select month, 'all' as product, sum(cogs_usd) as cogs_usd
    from cogs
    group by month
),

-- per product: each customer's MRR in the product now and a month earlier, and its first month there
product_mrr_paired as (
    select customer_id, product, month, sum(mrr) as mrr, sum(previous_mrr) as previous_mrr
    from (
        select customer_id, product, month, mrr, 0 as previous_mrr
        from product_mrr
        where mrr > 0
        union all
        select
            customer_id,
            product,
            cast({{ dbt.dateadd('month', 1, 'month') }} as date) as month,
            0 as mrr,
            mrr as previous_mrr
        from product_mrr
        where mrr > 0
    ) as now_and_before
    group by customer_id, product, month
),

product_first_months as (
    select customer_id, product, min(month) as first_month
    from product_mrr
    where mrr > 0
    group by customer_id, product
),

product_customers as (
    select
        product_mrr_paired.month,
        product_mrr_paired.product,
        sum(product_mrr_paired.mrr) as mrr_usd,
        sum(product_mrr_paired.previous_mrr) as previous_mrr_usd,
        sum(case when product_mrr_paired.mrr > 0 then 1 else 0 end) as customers,
        sum(
            case
                when product_mrr_paired.previous_mrr > product_mrr_paired.mrr
                    then product_mrr_paired.previous_mrr - product_mrr_paired.mrr
                else 0
            end
        ) as churned_and_contraction_mrr_usd,
        sum(case when product_mrr_paired.month = product_first_months.first_month then 1 else 0 end)
            as new_customers,
        sum(
            case
                when product_mrr_paired.month = product_first_months.first_month
                    then product_mrr_paired.mrr
                else 0
            end
        ) as new_customers_mrr_usd
    from product_mrr_paired
    left join product_first_months
        on product_mrr_paired.customer_id = product_first_months.customer_id
        and product_mrr_paired.product = product_first_months.product
    group by product_mrr_paired.month, product_mrr_paired.product
),

all_mrr as (
    select
        month,
        sum(mrr) as mrr_usd,
        sum(case when mrr > 0 then 1 else 0 end) as customers
    from mrr
    group by month
),

all_movements as (
    select
        month,
        sum(case when movement in ('churn', 'contraction') then -amount else 0 end)
            as churned_and_contraction_mrr_usd,
        sum(case when movement = 'new' then 1 else 0 end) as new_customers,
        sum(case when movement = 'new' then mrr else 0 end) as new_customers_mrr_usd
    from mrr_movements
    group by month
),

all_customers as (
    select
        all_mrr.month,
        'all' as product,
        all_mrr.mrr_usd,
        coalesce(previous_mrr.mrr_usd, 0) as previous_mrr_usd,
        all_mrr.customers,
        coalesce(all_movements.churned_and_contraction_mrr_usd, 0) as churned_and_contraction_mrr_usd,
        coalesce(all_movements.new_customers, 0) as new_customers,
        coalesce(all_movements.new_customers_mrr_usd, 0) as new_customers_mrr_usd
    from all_mrr
    left join all_mrr as previous_mrr
        on previous_mrr.month = cast({{ dbt.dateadd('month', -1, 'all_mrr.month') }} as date)
    left join all_movements on all_mrr.month = all_movements.month
),

customers as (
    select * from product_customers
    union all
    select * from all_customers
),

spend as (
    select
        cast({{ dbt.date_trunc('month', 'spend_date') }} as date) as month,
        'all' as product,
        sum(amount_usd) as sales_and_marketing_spend_usd
    from ad_spend
    group by 1
),

combined as (
    select
        spine.month,
        spine.product,
        coalesce(recognized.recognized_revenue_usd, 0) as recognized_revenue_usd,
        costs.cogs_usd,
        coalesce(customers.mrr_usd, 0) as mrr_usd,
        coalesce(customers.previous_mrr_usd, 0) as previous_mrr_usd,
        coalesce(customers.customers, 0) as customers,
        coalesce(customers.churned_and_contraction_mrr_usd, 0) as churned_and_contraction_mrr_usd,
        coalesce(customers.new_customers, 0) as new_customers,
        coalesce(customers.new_customers_mrr_usd, 0) as new_customers_mrr_usd,
        -- null, not zero, for a month without spend data (before the first ad spend export)
        spend.sales_and_marketing_spend_usd
    from spine
    left join recognized on spine.month = recognized.month and spine.product = recognized.product
    left join costs on spine.month = costs.month and spine.product = costs.product
    left join customers on spine.month = customers.month and spine.product = customers.product
    left join spend on spine.month = spend.month and spine.product = spend.product
),

ratios as (
    select
        *,
        (recognized_revenue_usd - cogs_usd) / nullif(recognized_revenue_usd, 0) as gross_margin,
        mrr_usd / nullif(customers, 0) as arpa_usd,
        churned_and_contraction_mrr_usd / nullif(previous_mrr_usd, 0) as revenue_churn_rate,
        new_customers_mrr_usd / nullif(new_customers, 0) as new_customers_arpa_usd,
        sales_and_marketing_spend_usd / nullif(new_customers, 0) as cac_usd
    from combined
)

select
    cast(month as date) as month,
    cast(product as varchar) as product,
    cast(recognized_revenue_usd as double precision) as recognized_revenue_usd,
    cast(cogs_usd as double precision) as cogs_usd,
    cast(recognized_revenue_usd - cogs_usd as double precision) as gross_profit_usd,
    cast(gross_margin as double precision) as gross_margin,
    cast(mrr_usd as double precision) as mrr_usd,
    cast(previous_mrr_usd as double precision) as previous_mrr_usd,
    cast(customers as bigint) as customers,
    cast(arpa_usd as double precision) as arpa_usd,
    cast(churned_and_contraction_mrr_usd as double precision) as churned_and_contraction_mrr_usd,
    cast(revenue_churn_rate as double precision) as revenue_churn_rate,
    cast(arpa_usd * gross_margin / nullif(revenue_churn_rate, 0) as double precision) as ltv_usd,
    cast(new_customers as bigint) as new_customers,
    cast(new_customers_arpa_usd as double precision) as new_customers_arpa_usd,
    cast(sales_and_marketing_spend_usd as double precision) as sales_and_marketing_spend_usd,
    cast(cac_usd as double precision) as cac_usd,
    cast(cac_usd / nullif(new_customers_arpa_usd * gross_margin, 0) as double precision) as cac_payback_months
from ratios
