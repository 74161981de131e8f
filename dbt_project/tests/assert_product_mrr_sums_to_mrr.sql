{# Per-product MRR adds up to the customer's MRR in fct_mrr, every customer and month (the two are
   summed in different orders, so they may differ in the last bits of a double). #}
with

product_mrr as (
    select customer_id, month, sum(mrr) as mrr
    from {{ ref('int_product_mrr_monthly') }}
    group by customer_id, month
),

mrr as (select * from {{ ref('fct_mrr') }})

select
    mrr.customer_id,
    mrr.month,
    mrr.mrr,
    product_mrr.mrr as product_mrr
from mrr
full outer join product_mrr
    on mrr.customer_id = product_mrr.customer_id
    and mrr.month = product_mrr.month
where abs(coalesce(mrr.mrr, 0) - coalesce(product_mrr.mrr, 0)) > 0.000001
