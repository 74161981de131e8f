with

entries_monthly as (select * from {{ ref('int_revenue_entries_monthly') }}),
cash_movements as (select * from {{ ref('int_revenue_cash_allocated') }}),
month_ends as (select * from {{ ref('int_month_ends_spined') }}),

revenue as (
    select
        month,
        product,
        currency,
        sum(billed_amount) as billed,
        sum(billed_amount_usd) as billed_usd,
        sum(recognized_amount) as recognized,
        sum(recognized_amount_usd) as recognized_usd
    from entries_monthly
    group by month, product, currency
),

cash as (
    select
        month_ends.month_start as month,
        cash_movements.product,
        cash_movements.currency,
        sum(cash_movements.tax_billed) as tax_billed,
        sum(cash_movements.tax_billed_usd) as tax_billed_usd,
        sum(cash_movements.collected) as collected,
        sum(cash_movements.collected_usd) as collected_usd
    from cash_movements
    inner join month_ends
        on cast({{ dbt.date_trunc('month', 'cash_movements.occurred_at') }} as date) = month_ends.month_start
    group by month_ends.month_start, cash_movements.product, cash_movements.currency
),

first_months as (
    select product, currency, min(month) as first_month
    from (
        select product, currency, month from revenue
        union all
        select product, currency, month from cash
    ) as active
    group by product, currency
),

spine as (
    select month_ends.month_start as month, first_months.product, first_months.currency
    from first_months
    inner join month_ends on month_ends.month_start >= first_months.first_month
),

monthly as (
    select
        spine.month,
        spine.product,
        spine.currency,
        coalesce(revenue.billed, 0) as billed,
        coalesce(revenue.recognized, 0) as recognized,
        coalesce(cash.tax_billed, 0) as tax_billed,
        coalesce(cash.collected, 0) as collected,
        coalesce(revenue.billed_usd, 0) as billed_usd,
        coalesce(revenue.recognized_usd, 0) as recognized_usd,
        coalesce(cash.tax_billed_usd, 0) as tax_billed_usd,
        coalesce(cash.collected_usd, 0) as collected_usd
    from spine
    left join revenue
        on spine.month = revenue.month
        and spine.product = revenue.product
        and spine.currency = revenue.currency
    left join cash
        on spine.month = cash.month
        and spine.product = cash.product
        and spine.currency = cash.currency
),

reconciled as (
    select
        *,
        billed - recognized as change_in_deferred,
        billed + tax_billed - collected as change_in_receivables,
        billed_usd - recognized_usd as change_in_deferred_usd,
        billed_usd + tax_billed_usd - collected_usd as change_in_receivables_usd
    from monthly
)

select
    cast(month as date) as month,
    cast(product as varchar) as product,
    cast(currency as varchar) as currency,
    cast(billed as double precision) as billed,
    cast(recognized as double precision) as recognized,
    cast(change_in_deferred as double precision) as change_in_deferred,
    cast(sum(change_in_deferred) over (
        partition by product, currency order by month rows between unbounded preceding and current row
    ) as double precision) as deferred_revenue,
    cast(tax_billed as double precision) as tax_billed,
    cast(collected as double precision) as collected,
    cast(change_in_receivables as double precision) as change_in_receivables,
    cast(sum(change_in_receivables) over (
        partition by product, currency order by month rows between unbounded preceding and current row
    ) as double precision) as receivables,
    cast(billed_usd as double precision) as billed_usd,
    cast(recognized_usd as double precision) as recognized_usd,
    cast(change_in_deferred_usd as double precision) as change_in_deferred_usd,
    cast(sum(change_in_deferred_usd) over (
        partition by product, currency order by month rows between unbounded preceding and current row
    ) as double precision) as deferred_revenue_usd,
    cast(tax_billed_usd as double precision) as tax_billed_usd,
    cast(collected_usd as double precision) as collected_usd,
    cast(change_in_receivables_usd as double precision) as change_in_receivables_usd,
    cast(sum(change_in_receivables_usd) over (
        partition by product, currency order by month rows between unbounded preceding and current row
    ) as double precision) as receivables_usd
from reconciled
