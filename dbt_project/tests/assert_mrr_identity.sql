{# Every month, total MRR = previous total + new + reactivation + expansion − contraction − churn
   (METRICS.md, Finance: MRR movements). Movement amounts are signed (contraction and churn negative),
   so the magnitudes of contraction and churn are −amount: a wrong sign or a missed movement breaks it.
   Rows returned are the months where the identity fails, beyond floating-point noise.
   In Dagster it is a check on fct_mrr_movements (a singular test on two models needs its asset named). #}
{{ config(meta={'dagster': {'ref': {'name': 'fct_mrr_movements'}}}) }}
with

mrr as (select * from {{ ref('fct_mrr') }}),
movements as (select * from {{ ref('fct_mrr_movements') }}),

months as (
    select month, sum(mrr) as mrr
    from mrr
    group by month
),

month_movements as (
    select
        month,
        sum(case when movement = 'new' then amount else 0 end) as new_mrr,
        sum(case when movement = 'reactivation' then amount else 0 end) as reactivation_mrr,
        sum(case when movement = 'expansion' then amount else 0 end) as expansion_mrr,
        sum(case when movement = 'contraction' then -amount else 0 end) as contraction_mrr,
        sum(case when movement = 'churn' then -amount else 0 end) as churned_mrr
    from movements
    group by month
),

identity as (
    select
        months.month,
        months.mrr,
        coalesce(previous_month.mrr, 0)
            + coalesce(month_movements.new_mrr, 0)
            + coalesce(month_movements.reactivation_mrr, 0)
            + coalesce(month_movements.expansion_mrr, 0)
            - coalesce(month_movements.contraction_mrr, 0)
            - coalesce(month_movements.churned_mrr, 0) as mrr_from_movements
    from months
    left join months as previous_month
        on previous_month.month = cast({{ dbt.dateadd('month', -1, 'months.month') }} as date)
    left join month_movements on month_movements.month = months.month
)

select month, mrr, mrr_from_movements
from identity
where abs(mrr - mrr_from_movements) > greatest(0.000001, abs(mrr) * 0.000000001)
