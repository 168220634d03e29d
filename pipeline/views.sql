-- Views in the published database (data/published/uppvaxt.duckdb): the questions a county
-- analyst asks first, answered without joins. pipeline/views.py runs this file inside the
-- new snapshot before it is swapped in, then comments every column. Plain SQL that the
-- DuckDB 1.5 CLI reads too; names are unqualified so the views work whatever the file is
-- attached as. The national benchmark is riket for register data and all respondents of
-- the survey for survey indicators, as in the fact table's comparisons.

CREATE VIEW marts.v_trend AS
WITH
fact_label AS (
    SELECT column_name, code, label FROM marts.label WHERE table_name = 'marts.fact_indicator'
),
factor_label AS (
    SELECT code, label FROM marts.label
    WHERE table_name = 'marts.indicator' AND column_name = 'strategic_factor'
),
national AS (
    SELECT f.indicator_id, f.period, f.value, a.area_name
    FROM marts.fact_indicator AS f
    JOIN marts.area AS a ON a.area_code = f.area_code
    WHERE f.area_type IN ('riket', 'total') AND f.sex = 'T' AND f.breakdown = 'all'
)
SELECT
    f.area_code,
    a.area_name,
    f.area_type,
    l_type.label AS area_type_label,
    a.lan_code,
    lan.area_name AS lan_name,
    f.indicator_id,
    i.title,
    i.short_title,
    i.strategic_factor,
    l_factor.label AS strategic_factor_label,
    f.unit,
    f.period,
    f.value,
    f.lower_95,
    f.upper_95,
    f.numerator,
    f.denominator,
    f.status,
    l_status.label AS status_label,
    f.status_reason,
    lan_fact.value AS lan_value,
    national.value AS riket_value,
    national.area_name AS riket_name,
    f.compared_to_lan,
    l_lan.label AS compared_to_lan_label,
    f.compared_to_riket,
    l_riket.label AS compared_to_riket_label,
    f.compared_to_peers,
    l_peers.label AS compared_to_peers_label,
    f.trend,
    l_trend.label AS trend_label,
    f.rank_band,
    l_band.label AS rank_band_label,
    f.quintile,
    f.red_red,
    f.source_id
FROM marts.fact_indicator AS f
JOIN marts.indicator AS i ON i.indicator_id = f.indicator_id
JOIN marts.area AS a ON a.area_code = f.area_code
LEFT JOIN marts.area AS lan ON lan.area_code = a.lan_code AND lan.area_type = 'lan'
LEFT JOIN marts.fact_indicator AS lan_fact
    ON lan_fact.indicator_id = f.indicator_id AND lan_fact.period = f.period
    AND lan_fact.sex = f.sex AND lan_fact.breakdown = f.breakdown
    AND lan_fact.area_type = 'lan' AND lan_fact.area_code = a.lan_code
LEFT JOIN national ON national.indicator_id = f.indicator_id AND national.period = f.period
LEFT JOIN fact_label AS l_type ON l_type.column_name = 'area_type' AND l_type.code = f.area_type
LEFT JOIN factor_label AS l_factor ON l_factor.code = i.strategic_factor
LEFT JOIN fact_label AS l_status ON l_status.column_name = 'status' AND l_status.code = f.status
LEFT JOIN fact_label AS l_lan
    ON l_lan.column_name = 'compared_to_lan' AND l_lan.code = f.compared_to_lan
LEFT JOIN fact_label AS l_riket
    ON l_riket.column_name = 'compared_to_riket' AND l_riket.code = f.compared_to_riket
LEFT JOIN fact_label AS l_peers
    ON l_peers.column_name = 'compared_to_peers' AND l_peers.code = f.compared_to_peers
LEFT JOIN fact_label AS l_trend ON l_trend.column_name = 'trend' AND l_trend.code = f.trend
LEFT JOIN fact_label AS l_band
    ON l_band.column_name = 'rank_band' AND l_band.code = f.rank_band
WHERE f.sex = 'T' AND f.breakdown = 'all'
ORDER BY f.indicator_id, f.area_code, f.period;

COMMENT ON VIEW marts.v_trend IS 'Alla år per område (kommun, delregion, län, riket och alla svarande i en enkät) och indikator, totalt för båda könen utan nedbrytning: namn, titel, värde med 95-procentigt konfidensintervall, status i klartext, länets och rikets värde samma år, jämförelser, trend och relativ position med svenska etiketter. Exempel: SELECT period, value, lan_value, riket_value FROM marts.v_trend WHERE area_name = ''Linköping'' AND indicator_id = ''N15428'' ORDER BY period.';

CREATE VIEW marts.v_senaste_period AS
SELECT indicator_id, max(period) AS period
FROM marts.fact_indicator
WHERE area_type IN ('riket', 'total') AND sex = 'T' AND breakdown = 'all' AND value IS NOT NULL
GROUP BY indicator_id
ORDER BY indicator_id;

COMMENT ON VIEW marts.v_senaste_period IS 'Senaste år per indikator som har ett värde för riket (för enkätindikatorer: för alla svarande). Det år som v_kommun_senaste och v_lan_senaste visar.';

CREATE VIEW marts.v_kommun_senaste AS
SELECT t.* EXCLUDE (area_type, area_type_label)
    RENAME (area_code AS kommun_code, area_name AS kommun_name)
FROM marts.v_trend AS t
JOIN marts.v_senaste_period AS latest
    ON latest.indicator_id = t.indicator_id AND latest.period = t.period
WHERE t.area_type = 'kommun'
ORDER BY t.area_code, t.indicator_id;

COMMENT ON VIEW marts.v_kommun_senaste IS 'Senaste värdet per kommun och indikator (totalt, utan nedbrytning, det senaste året med ett värde för riket): kommun och län med namn, indikatorns titel, enhet och strategiska skyddsfaktor, värde med 95-procentigt konfidensintervall, täljare, nämnare, status med orsak, länets och rikets värde, jämförelser, trend och relativ position på svenska. Exempel: SELECT kommun_name, short_title, value, riket_value, compared_to_riket_label FROM marts.v_kommun_senaste WHERE lan_name = ''Östergötlands län'' AND strategic_factor = ''skola'' AND compared_to_riket IN (''worse'', ''much_worse'').';

-- A län row's own code and name are its lan_code and lan_name; what only a kommun has
-- (comparison with its län and similar kommuner, rank, red–red) is left out.
CREATE VIEW marts.v_lan_senaste AS
SELECT t.* EXCLUDE (area_code, area_name, area_type, area_type_label, lan_value,
                    compared_to_lan, compared_to_lan_label, compared_to_peers,
                    compared_to_peers_label, rank_band, rank_band_label, quintile, red_red)
FROM marts.v_trend AS t
JOIN marts.v_senaste_period AS latest
    ON latest.indicator_id = t.indicator_id AND latest.period = t.period
WHERE t.area_type = 'lan'
ORDER BY t.area_code, t.indicator_id;

COMMENT ON VIEW marts.v_lan_senaste IS 'Senaste värdet per län och indikator (totalt, utan nedbrytning), med rikets värde, jämförelsen med riket och trenden på svenska. Län räknas som Σtäljare/Σnämnare över kommunerna.';

CREATE VIEW marts.v_indikator AS
WITH indicator_label AS (
    SELECT column_name, code, label FROM marts.label WHERE table_name = 'marts.indicator'
)
SELECT
    i.indicator_id,
    i.title,
    i.short_title,
    i.definition,
    i.strategic_factor,
    l_strategic.label AS strategic_factor_label,
    i.factor,
    l_factor.label AS factor_label,
    i.polarity,
    l_polarity.label AS polarity_label,
    i.unit,
    i.age_label,
    i.source,
    l_source.label AS source_label,
    i.source_id,
    i.note
FROM marts.indicator AS i
LEFT JOIN indicator_label AS l_strategic
    ON l_strategic.column_name = 'strategic_factor' AND l_strategic.code = i.strategic_factor
LEFT JOIN indicator_label AS l_factor
    ON l_factor.column_name = 'factor' AND l_factor.code = i.factor
LEFT JOIN indicator_label AS l_polarity
    ON l_polarity.column_name = 'polarity' AND l_polarity.code = i.polarity
LEFT JOIN indicator_label AS l_source
    ON l_source.column_name = 'source' AND l_source.code = i.source
ORDER BY i.indicator_id;

COMMENT ON VIEW marts.v_indikator IS 'Indikatorerna med titel, definition, strategisk skyddsfaktor, risk- eller skyddsfaktor, riktning och källa i klartext.';

CREATE VIEW marts.v_liknande_kommuner AS
SELECT
    p.kommun_code,
    k.area_name AS kommun_name,
    p.rank,
    p.peer_code,
    peer.area_name AS peer_name,
    peer.lan_code AS peer_lan_code,
    p.distance
FROM marts.peer_group AS p
JOIN marts.area AS k ON k.area_code = p.kommun_code
JOIN marts.area AS peer ON peer.area_code = p.peer_code
ORDER BY p.kommun_code, p.rank;

COMMENT ON VIEW marts.v_liknande_kommuner IS 'Varje kommuns mest liknande kommuner med namn, i ordning (1 = mest lik).';

-- What changed since the previous publication: the latest publication's rows of
-- meta.publication_change with names and the Swedish text of every code.
CREATE VIEW marts.v_andringar AS
WITH
change_label AS (
    SELECT column_name, code, label FROM marts.label WHERE table_name = 'meta.publication_change'
)
SELECT
    c.run_id,
    c.previous_run_id,
    CASE
        WHEN c.is_new THEN 'Nytt värde'
        WHEN c.is_removed THEN 'Borttaget värde'
        WHEN c.value_revised THEN 'Reviderat värde'
        WHEN c.status_changed THEN 'Ny status'
        WHEN c.comparison_changed THEN 'Ny jämförelse'
        ELSE 'Ny trend'
    END AS change_label,
    c.indicator_id,
    i.title,
    i.short_title,
    c.area_code,
    a.area_name,
    c.area_type,
    l_type.label AS area_type_label,
    a.lan_code,
    lan.area_name AS lan_name,
    c.period,
    c.sex,
    l_sex.label AS sex_label,
    c.breakdown,
    l_breakdown.label AS breakdown_label,
    c.is_new,
    c.is_removed,
    c.value_revised,
    c.beyond_interval,
    c.status_changed,
    c.comparison_changed,
    c.trend_changed,
    c.old_value,
    c.new_value,
    c.new_value - c.old_value AS difference,
    c.old_lower_95,
    c.old_upper_95,
    c.new_lower_95,
    c.new_upper_95,
    c.old_status,
    l_old_status.label AS old_status_label,
    c.new_status,
    l_new_status.label AS new_status_label,
    c.old_compared_to_lan,
    l_old_lan.label AS old_compared_to_lan_label,
    c.new_compared_to_lan,
    l_new_lan.label AS new_compared_to_lan_label,
    c.old_compared_to_riket,
    l_old_riket.label AS old_compared_to_riket_label,
    c.new_compared_to_riket,
    l_new_riket.label AS new_compared_to_riket_label,
    c.old_trend,
    l_old_trend.label AS old_trend_label,
    c.new_trend,
    l_new_trend.label AS new_trend_label
FROM meta.publication_change AS c
JOIN (SELECT run_id FROM meta.publication_history ORDER BY published_at DESC, run_id DESC LIMIT 1)
    AS latest ON latest.run_id = c.run_id
LEFT JOIN marts.indicator AS i ON i.indicator_id = c.indicator_id
LEFT JOIN marts.area AS a ON a.area_code = c.area_code
LEFT JOIN marts.area AS lan ON lan.area_code = a.lan_code AND lan.area_type = 'lan'
LEFT JOIN change_label AS l_type ON l_type.column_name = 'area_type' AND l_type.code = c.area_type
LEFT JOIN change_label AS l_sex ON l_sex.column_name = 'sex' AND l_sex.code = c.sex
LEFT JOIN change_label AS l_breakdown
    ON l_breakdown.column_name = 'breakdown' AND l_breakdown.code = c.breakdown
LEFT JOIN change_label AS l_old_status
    ON l_old_status.column_name = 'old_status' AND l_old_status.code = c.old_status
LEFT JOIN change_label AS l_new_status
    ON l_new_status.column_name = 'new_status' AND l_new_status.code = c.new_status
LEFT JOIN change_label AS l_old_lan
    ON l_old_lan.column_name = 'old_compared_to_lan' AND l_old_lan.code = c.old_compared_to_lan
LEFT JOIN change_label AS l_new_lan
    ON l_new_lan.column_name = 'new_compared_to_lan' AND l_new_lan.code = c.new_compared_to_lan
LEFT JOIN change_label AS l_old_riket
    ON l_old_riket.column_name = 'old_compared_to_riket' AND l_old_riket.code = c.old_compared_to_riket
LEFT JOIN change_label AS l_new_riket
    ON l_new_riket.column_name = 'new_compared_to_riket' AND l_new_riket.code = c.new_compared_to_riket
LEFT JOIN change_label AS l_old_trend
    ON l_old_trend.column_name = 'old_trend' AND l_old_trend.code = c.old_trend
LEFT JOIN change_label AS l_new_trend
    ON l_new_trend.column_name = 'new_trend' AND l_new_trend.code = c.new_trend
ORDER BY c.indicator_id, c.area_code, c.period, c.sex, c.breakdown;

COMMENT ON VIEW marts.v_andringar IS 'Vad som har ändrats sedan förra publiceringen: en rad per indikator, område, år, kön och nedbrytning som är ny (t.ex. ett nytt år), borttagen, har reviderat värde (beyond_interval: utanför det gamla 95-procentiga intervallet) eller ny status, jämförelse eller trend, med namn och svenska etiketter. Tom när databasen är den första publiceringen. Exempel: SELECT area_name, short_title, period, change_label, old_value, new_value FROM marts.v_andringar WHERE lan_name = ''Östergötlands län'' ORDER BY short_title, area_name.';
