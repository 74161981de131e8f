with

ai_generations as (select * from {{ ref('stg_lake__ai_generations') }}),
cloud_costs as (select * from {{ ref('stg_lake__cloud_costs') }}),
cash_movements as (select * from {{ ref('int_revenue_cash_allocated') }}),
month_ends as (select * from {{ ref('int_month_ends_spined') }}),

llm as (
    select
        cast({{ dbt.date_trunc('month', 'event_date') }} as date) as month,
        product,
        sum(cost_usd) as llm_cost_usd
    from ai_generations
    group by 1, 2
),

cloud_direct as (
    select
        cast({{ dbt.date_trunc('month', 'cost_date') }} as date) as month,
        product,
        sum(amount_usd) as cloud_cost_usd
    from cloud_costs
    where product <> 'shared'
    group by 1, 2
),

cloud_shared as (
    select
        cast({{ dbt.date_trunc('month', 'cost_date') }} as date) as month,
        sum(amount_usd) as cloud_cost_usd
    from cloud_costs
    where product = 'shared'
    group by 1
),

fees as (
    select
        cast({{ dbt.date_trunc('month', 'occurred_at') }} as date) as month,
        product,
        sum(payment_fee_usd) as payment_fees_usd
    from cash_movements
    where movement_type = 'payment'
    group by 1, 2
),

products as (
    select product from llm
    union
    select product from cloud_direct
    union
    select product from fees
),

-- payments are older than the platform's cost exports: COGS starts with the first cloud or LLM cost
first_cost_month as (
    select min(month) as month
    from (
        select month from llm
        union all
        select month from cloud_direct
        union all
        select month from cloud_shared
    ) as costs
),

spine as (
    select month_ends.month_start as month, products.product
    from month_ends
    cross join products
    inner join first_cost_month on month_ends.month_start >= first_cost_month.month
),

direct_totals as (
    select month, sum(cloud_cost_usd) as cloud_cost_usd
    from cloud_direct
    group by month
),

monthly as (
    select
        spine.month,
        spine.product,
        coalesce(llm.llm_cost_usd, 0) as llm_cost_usd,
        coalesce(cloud_direct.cloud_cost_usd, 0) as cloud_direct_cost_usd,
        -- shared cloud cost follows each product's own cloud cost that month (equal split without any)
        coalesce(cloud_shared.cloud_cost_usd, 0) * case
            when direct_totals.cloud_cost_usd > 0
                then coalesce(cloud_direct.cloud_cost_usd, 0) / direct_totals.cloud_cost_usd
            else 1.0 / (select count(*) from products)
        end as cloud_shared_cost_usd,
        coalesce(fees.payment_fees_usd, 0) as payment_fees_usd
    from spine
    left join llm on spine.month = llm.month and spine.product = llm.product
    left join cloud_direct on spine.month = cloud_direct.month and spine.product = cloud_direct.product
    left join cloud_shared on spine.month = cloud_shared.month
    left join direct_totals on spine.month = direct_totals.month
    left join fees on spine.month = fees.month and spine.product = fees.product
)

select
    cast(month as date) as month,
    cast(product as varchar) as product,
    cast(llm_cost_usd as double precision) as llm_cost_usd,
    cast(cloud_direct_cost_usd as double precision) as cloud_direct_cost_usd,
    cast(cloud_shared_cost_usd as double precision) as cloud_shared_cost_usd,
    cast(payment_fees_usd as double precision) as payment_fees_usd,
    cast(llm_cost_usd + cloud_direct_cost_usd + cloud_shared_cost_usd + payment_fees_usd as double precision)
        as cogs_usd
from monthly
