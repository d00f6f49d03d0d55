-- TPC-H Q6: forecasting revenue change (DATE = 1994-01-01, DISCOUNT = 0.06, QUANTITY = 24)
-- The discount range 0.06 - 0.01 .. 0.06 + 0.01 is written out as 0.05 .. 0.07: ClickHouse reads
-- decimal literals as Float64, where 0.06 + 0.01 < 0.07 would drop the rows with discount 0.07.
select
    sum(l_extendedprice * l_discount) as revenue
from
    {tpch.lineitem}
where
    l_shipdate >= date '1994-01-01'
    and l_shipdate < date '1994-01-01' + INTERVAL 1 YEAR
    and l_discount between 0.05 and 0.07
    and l_quantity < 24
