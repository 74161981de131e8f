{# One MRR movement per customer and month (METRICS.md, Finance: MRR movements), on MRR after discounts.
   Labelled on the customer's total, never per subscription item or plan: a plan switch or a seat change
   is an expansion or a contraction, not a churn plus a new. Reactivation is tested before expansion. #}

{#- MRR sums several items in USD; two sums of the same items may differ in the last bits of a double.
    A difference this small is no movement (real ones are cents, or FX moves of a rate with 6 decimals). -#}
{%- set same_mrr_tolerance = 0.000000001 -%}

with

mrr as (select * from {{ ref('fct_mrr') }}),

-- fct_mrr has a row for every month from the customer's first one, so the previous row is the previous month
customer_history as (
    select
        customer_id,
        month,
        mrr,
        coalesce(lag(mrr) over (partition by customer_id order by month), 0) as previous_mrr,
        coalesce(
            max(mrr) over (
                partition by customer_id order by month rows between unbounded preceding and 1 preceding
            ),
            0
        ) as highest_earlier_mrr
    from mrr
),

labelled as (
    select
        customer_id,
        month,
        mrr,
        previous_mrr,
        case
            when mrr > 0 and previous_mrr = 0 and highest_earlier_mrr > 0 then 'reactivation'
            when mrr > 0 and previous_mrr = 0 then 'new'
            when mrr > 0 and previous_mrr > 0 and mrr - previous_mrr > {{ same_mrr_tolerance }} then 'expansion'
            when mrr > 0 and previous_mrr > 0 and previous_mrr - mrr > {{ same_mrr_tolerance }} then 'contraction'
            when mrr = 0 and previous_mrr > 0 then 'churn'
        end as movement
    from customer_history
)

select
    cast(customer_id as varchar) as customer_id,
    cast(month as date) as month,
    cast(movement as varchar) as movement,
    cast(mrr as double precision) as mrr,
    cast(previous_mrr as double precision) as previous_mrr,
    cast(mrr - previous_mrr as double precision) as amount
from labelled
where movement is not null
