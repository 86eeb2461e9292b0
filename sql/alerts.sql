-- Alerts. The database decides: when an image has been associated, a trigger applies the
-- dataset's alert rules to what that image changed and writes alerts to an outbox in the
-- same transaction, so an alert exists if and only if its data does. NOTIFY only wakes
-- consumers; they read the outbox by alert_id and keep their place in alert_consumer.

-- What deserves an alert, per dataset and kind. Every dataset starts with these rows, with
-- the defaults below; change them with UPDATE or `skytrap rules set`.
--   new_source         a first detection that earlier images rule out (TraP's newsource):
--                      newsource_type >= min_newsource_type and det_sigma >= min_det_sigma
--   variable           a lightcurve whose η and V (integrated flux, per band) both reach
--                      eta_min and v_min with this image's point, having been below before
--                      (TraP R2's transient search: η 8, V 0.4); `band` limits it to one band
--   flux_jump          this image's point against the previous one in the same band and
--                      Stokes parameter:
--                      |Vs| >= vs_min and |m| >= m_min (Mooley et al. 2016: 4.3 and 0.26)
--   monitor_detection  a blind detection within radius_arcsec of a monitor position
-- Every threshold is finite and not negative: a NaN or infinite one would switch a rule
-- off without a word (NaN compares above every number), a negative one means no more
-- than 0 does.
CREATE TABLE skytrap.alert_rule (
    dataset            integer NOT NULL REFERENCES skytrap.dataset (id) ON DELETE CASCADE,
    kind               text NOT NULL
                       CHECK (kind IN ('new_source', 'variable', 'flux_jump', 'monitor_detection')),
    enabled            boolean NOT NULL DEFAULT true,
    min_newsource_type smallint NOT NULL DEFAULT 0 CHECK (min_newsource_type IN (0, 1)),
    min_det_sigma      double precision NOT NULL DEFAULT 0
                       CHECK (min_det_sigma >= 0 AND min_det_sigma < 'Infinity'),
    eta_min            double precision NOT NULL DEFAULT 8.0
                       CHECK (eta_min >= 0 AND eta_min < 'Infinity'),
    v_min              double precision NOT NULL DEFAULT 0.4
                       CHECK (v_min >= 0 AND v_min < 'Infinity'),
    band               integer REFERENCES skytrap.frequencyband (id) ON DELETE SET NULL,
    vs_min             double precision NOT NULL DEFAULT 4.3
                       CHECK (vs_min >= 0 AND vs_min < 'Infinity'),
    m_min              double precision NOT NULL DEFAULT 0.26
                       CHECK (m_min >= 0 AND m_min < 'Infinity'),
    radius_arcsec      double precision NOT NULL DEFAULT 10
                       CHECK (radius_arcsec >= 0 AND radius_arcsec < 'Infinity'),
    PRIMARY KEY (dataset, kind)
);

CREATE FUNCTION skytrap.add_default_alert_rules()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = skytrap, pg_temp
AS $$
BEGIN
    INSERT INTO skytrap.alert_rule (dataset, kind)
    SELECT NEW.id, kind
    FROM unnest(ARRAY['new_source', 'variable', 'flux_jump', 'monitor_detection']) AS kind;
    RETURN NULL;
END
$$;
CREATE TRIGGER add_default_alert_rules AFTER INSERT ON skytrap.dataset
    FOR EACH ROW EXECUTE FUNCTION skytrap.add_default_alert_rules();

-- The outbox. alert_id order is commit order (see raise_alerts), so a consumer that has
-- seen alert N has seen every alert below N. Only raise_alerts writes it.
CREATE TABLE skytrap.alert (
    alert_id       bigserial PRIMARY KEY,
    created_at     timestamptz NOT NULL DEFAULT now(),
    kind           text NOT NULL
                   CHECK (kind IN ('new_source', 'variable', 'flux_jump', 'monitor_detection')),
    dataset        integer NOT NULL REFERENCES skytrap.dataset (id) ON DELETE CASCADE,
    runcat         bigint NOT NULL,
    xtrsrc         bigint NOT NULL,
    image          integer NOT NULL,
    -- 2 from skytrap 0.3.0: times in UTC with their zone, history and upper limits capped
    -- and counted, no lightcurve_median in `object` (it needs every point: varmetric has it).
    schema_version smallint NOT NULL DEFAULT 2,
    -- JSON text as built, not jsonb: an image's thousand packets of a hundred upper limits
    -- each are built in less than half the time as text (jsonb re-encodes every nested
    -- object at every level). A body grows with its lightcurve's history and is
    -- compressed past 2 kB: lz4 does it five times faster than the default pglz, for 7 %
    -- more space.
    body           json COMPRESSION lz4 NOT NULL,
    UNIQUE (kind, runcat, xtrsrc)
);
-- An object's alerts, newest first (a packet's citations).
CREATE INDEX ON skytrap.alert (runcat, alert_id);
-- The alerts on a lightcurve's points (citations).
CREATE INDEX ON skytrap.alert (xtrsrc);

-- Where each named consumer (`skytrap listen --consumer NAME`) has got to. A name is
-- taken by the role that first uses it (`owner`), and only that role sees and moves it
-- (row-level security, below).
CREATE TABLE skytrap.alert_consumer (
    name          text PRIMARY KEY,
    last_alert_id bigint NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    owner         name NOT NULL DEFAULT current_user
);

-- Alerts a consumer's responder failed on after all retries: kept, never dropped. Parked
-- by the role that ran the listener (`owner`; an unnamed listener parks as consumer ''),
-- under row-level security like alert_consumer.
CREATE TABLE skytrap.alert_parked (
    consumer  text NOT NULL,
    alert_id  bigint NOT NULL REFERENCES skytrap.alert (alert_id) ON DELETE CASCADE,
    attempts  integer NOT NULL,
    error     text NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now(),
    owner     name NOT NULL DEFAULT current_user,
    PRIMARY KEY (consumer, alert_id, owner)
);

-- Row-level security on both tables, for every role but the tables' owner and superusers
-- (who bypass it): a role reads, adds and moves only rows it owns, and cannot give a row
-- away; members of skytrap_analyst may read every row. Which commands a role may run at
-- all is granted in roles.sql.
ALTER TABLE skytrap.alert_consumer ENABLE ROW LEVEL SECURITY;
ALTER TABLE skytrap.alert_parked ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON skytrap.alert_consumer
    USING (owner = current_user) WITH CHECK (owner = current_user);
CREATE POLICY own_rows ON skytrap.alert_parked
    USING (owner = current_user) WITH CHECK (owner = current_user);
CREATE POLICY analysts_read ON skytrap.alert_consumer FOR SELECT
    USING (pg_has_role('skytrap_analyst', 'USAGE'));
CREATE POLICY analysts_read ON skytrap.alert_parked FOR SELECT
    USING (pg_has_role('skytrap_analyst', 'USAGE'));

-- The order in which transactions write alerts: each writer locks this one row until it
-- commits (raise_alerts). A row lock rather than an advisory lock: only roles that may
-- update this table (none but its owner) can take it, while an advisory lock is any
-- role's to hold, and one held would stall every alert.
CREATE TABLE skytrap.alert_order (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row)
);
INSERT INTO skytrap.alert_order DEFAULT VALUES;

-- A UTC time as ISO 8601 text with its zone: "2026-01-02T00:00:00Z" (the tables keep UTC
-- in timestamp without time zone, as TraP did), so that a consumer reads it unambiguously.
-- Inlined into its callers (an alert packet calls it for every point: 0.9 µs a call
-- where a call of its own took 2.5), so it sets no search_path and is as stable as
-- to_jsonb (either would stop that); its operators are built-in ones on exact types,
-- which pg_catalog, searched first, resolves.
CREATE FUNCTION skytrap.utc(t timestamp)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT (to_jsonb(t) #>> '{}') || 'Z' $$;

-- A reason to alert found in one image, before it becomes an outbox row.
CREATE TYPE skytrap.alert_candidate AS (kind text, runcat bigint, xtrsrc bigint, classification jsonb);

-- The alert bodies of a list of candidates (n: the candidate's position in the list; one
-- whose source or lightcurve does not exist gets none), schema version 2, shaped like an
-- LSST/ZTF packet: the triggering measurement (`source`), the lightcurve object with its
-- variability (`object`: what its flux row holds, read in constant time; not the median,
-- which needs every point), the points of the lightcurve before it (`history`, blind and
-- forced; the newest dataset.alert_history_points of those in its alert_history_days,
-- `history_points` how many earlier points there are and `history_cut` whether some were
-- left out), the earlier images of the field that saw nothing there (`upper_limits`: of
-- the newest alert_history_points earlier images in the window of the sky regions linked
-- to the lightcurve in assocskyrgn, which TraP's new-source test reads too, those without
-- a point of it; `upper_limits_cut` whether older images of the window were not looked
-- at; each limit is the image's detection threshold times its lowest noise, `limit_rms`
-- 'rms_min': the best limit anywhere in the image, not the one at the position), why it
-- alerts (`classification`), and the earlier alerts on the same object (`citations`:
-- the newest alert_history_points alerts on this lightcurve, and those on the points of
-- its history, so that a lightcurve forked from another cites the alerts of the history
-- it carries). Every read is by index and
-- bounded by alert_history_points, so a packet costs the same however long the
-- lightcurve. One query for the whole list: an image's thousand alerts are one plan, not
-- a thousand calls.
CREATE FUNCTION skytrap.alert_bodies(candidates skytrap.alert_candidate[])
RETURNS TABLE (n bigint, body json)
LANGUAGE sql STABLE
SET search_path = skytrap, pg_temp
AS $$
    WITH c AS (
        SELECT * FROM unnest(candidates) WITH ORDINALITY AS c(kind, runcat, xtrsrc, classification, n)
    ),
    -- The earlier images of the fields the candidates' lightcurves lie in, as upper-limit
    -- entries, per (sky region, image alerted on): built once for all the candidates
    -- that share them (an image's new sources share its field), not once per packet.
    -- Per band, the newest alert_history_points + 1 accepted images in the window before
    -- the image, read by index; each limit is the image's detection threshold times its
    -- lowest noise.
    field AS MATERIALIZED (
        SELECT f.skyrgn, f.image, ui.id, ui.taustart_ts,
               json_build_object('image', ui.id, 'taustart_ts', skytrap.utc(ui.taustart_ts),
                                  'band', ui.band, 'f_peak_limit', ui.f_peak_limit,
                                  'limit_rms', 'rms_min') AS entry
        FROM (SELECT DISTINCT us.skyrgn, x.image
              FROM c
              JOIN skytrap.extractedsource x ON x.id = c.xtrsrc
              JOIN skytrap.assocskyrgn us ON us.runcat = c.runcat) f
        JOIN skytrap.image i ON i.id = f.image
        JOIN skytrap.dataset d ON d.id = i.dataset
        JOIN skytrap.frequencyband fb ON fb.dataset = d.id
        CROSS JOIN LATERAL (
            SELECT ui.id, ui.taustart_ts, ui.band,
                   ui.rms_min * ui.detection_thresh AS f_peak_limit
            FROM skytrap.image ui
            WHERE ui.skyrgn = f.skyrgn AND ui.band = fb.id
              AND ui.taustart_ts < i.taustart_ts
              AND ui.taustart_ts >= i.taustart_ts - d.alert_history_days * interval '1 day'
              AND ui.rms_min IS NOT NULL AND ui.detection_thresh IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM skytrap.rejection uj WHERE uj.image = ui.id)
            ORDER BY ui.taustart_ts DESC, ui.id DESC
            LIMIT d.alert_history_points + 1) ui
    ),
    -- Each (sky region, image)'s upper limits as the packet of a lightcurve seen in none
    -- of its images carries them (every new source's): built once and copied into each
    -- such packet as text.
    field_limits AS MATERIALIZED (
        SELECT fl.skyrgn, fl.image,
               json_agg(fl.entry ORDER BY fl.taustart_ts, fl.id)
                 FILTER (WHERE fl.k <= d.alert_history_points) AS limits,
               count(*) > d.alert_history_points AS cut
        FROM (SELECT fl.*, row_number() OVER (PARTITION BY fl.skyrgn, fl.image
                                              ORDER BY fl.taustart_ts DESC, fl.id DESC) AS k
              FROM field fl) fl
        JOIN skytrap.image i ON i.id = fl.image
        JOIN skytrap.dataset d ON d.id = i.dataset
        GROUP BY fl.skyrgn, fl.image, d.alert_history_points
    )
    SELECT c.n, json_build_object(
        'schema_version', 2,
        'kind', c.kind,
        'dataset', json_build_object('id', d.id, 'description', d.description),
        'source', json_build_object(
            'id', x.id, 'ra', x.ra, 'dec', x.decl, 'ra_err', x.ra_err, 'dec_err', x.decl_err,
            'error_radius', x.error_radius,
            'f_peak', x.f_peak, 'f_peak_err', x.f_peak_err, 'f_int', x.f_int,
            'f_int_err', x.f_int_err, 'det_sigma', x.det_sigma, 'extract_type', x.extract_type,
            'image', i.id, 'url', i.url, 'taustart_ts', skytrap.utc(i.taustart_ts),
            'freq_eff', i.freq_eff, 'band', i.band, 'stokes', i.stokes),
        'object', json_build_object(
            'runcat', r.id, 'wm_ra', r.wm_ra, 'wm_decl', r.wm_decl,
            'wm_uncertainty_ew', r.wm_uncertainty_ew, 'wm_uncertainty_ns', r.wm_uncertainty_ns,
            'datapoints', r.datapoints,
            'v_int', v.v_int, 'eta_int', v.eta_int, 'v_peak', v.v_peak, 'eta_peak', v.eta_peak,
            'lightcurve_max', v.lightcurve_max, 'lightcurve_avg', v.lightcurve_avg,
            'first_ts', skytrap.utc(v.first_ts), 'last_ts', skytrap.utc(v.last_ts)),
        'history', h.history,
        'history_points', e.earlier,
        'history_cut', e.earlier > h.taken,
        'upper_limits', coalesce(fu.limits, u.limits),
        'upper_limits_cut', coalesce(fu.cut, u.cut),
        'classification', c.classification,
        'citations', (SELECT coalesce(json_agg(a.alert_id ORDER BY a.alert_id), '[]'::json)
                      FROM ((SELECT al.alert_id FROM skytrap.alert al WHERE al.runcat = r.id
                             ORDER BY al.alert_id DESC LIMIT d.alert_history_points)
                            UNION
                            SELECT al.alert_id FROM skytrap.alert al
                            WHERE al.xtrsrc = ANY (h.points)) a))
    FROM c
    JOIN skytrap.extractedsource x ON x.id = c.xtrsrc
    JOIN skytrap.image i ON i.id = x.image
    JOIN skytrap.dataset d ON d.id = i.dataset
    JOIN skytrap.runningcatalog r ON r.id = c.runcat
    LEFT JOIN skytrap.varmetric v ON v.runcat = r.id
    -- How many points came before this one: every point (the flux rows count them) but
    -- those at its time or later, read by index from the newest. (OFFSET 0 keeps it a
    -- subquery, read once: pulled up, it would be read for each of its two uses.)
    CROSS JOIN LATERAL (
        SELECT (SELECT sum(f.f_datapoints) FROM skytrap.runningcatalog_flux f
                WHERE f.runcat = r.id)
             - (SELECT count(*) FROM skytrap.assocxtrsource la
                WHERE la.runcat = r.id AND la.taustart_ts >= i.taustart_ts) AS earlier
        OFFSET 0) e
    -- The history the packet carries: the newest alert_history_points earlier points in
    -- the alert_history_days before it, read by index newest first; their ids, which
    -- earlier alerts cite.
    CROSS JOIN LATERAL (
        SELECT coalesce(json_agg(json_build_object(
                   'id', p.id, 'image', p.image, 'taustart_ts', skytrap.utc(p.taustart_ts),
                   'band', p.band, 'freq_eff', p.freq_eff,
                   'f_peak', p.f_peak, 'f_peak_err', p.f_peak_err,
                   'f_int', p.f_int, 'f_int_err', p.f_int_err,
                   'extract_type', p.extract_type, 'assoc_type', p.type)
                 ORDER BY p.taustart_ts, p.id), '[]'::json) AS history,
               count(*) AS taken, coalesce(array_agg(p.id), '{}') AS points
        FROM (SELECT hx.id, hx.image, ha.taustart_ts, hi.band, hi.freq_eff, hx.f_peak,
                     hx.f_peak_err, hx.f_int, hx.f_int_err, hx.extract_type, ha.type
              FROM skytrap.assocxtrsource ha
              JOIN skytrap.extractedsource hx ON hx.id = ha.xtrsrc
              JOIN skytrap.image hi ON hi.id = hx.image
              WHERE ha.runcat = r.id AND ha.taustart_ts < i.taustart_ts
                AND ha.taustart_ts >= i.taustart_ts - d.alert_history_days * interval '1 day'
              ORDER BY ha.taustart_ts DESC, ha.xtrsrc DESC
              LIMIT d.alert_history_points) p) h
    -- The field's images (`field` above) in which the lightcurve has a point: its points
    -- from the oldest of them on, read by index in one range (none for a lightcurve that
    -- starts with this image).
    CROSS JOIN LATERAL (
        SELECT coalesce(array_agg(sx.image), '{}') AS images
        FROM skytrap.assocxtrsource sa
        JOIN skytrap.extractedsource sx ON sx.id = sa.xtrsrc
        WHERE sa.runcat = r.id AND sa.taustart_ts < i.taustart_ts
          AND sa.taustart_ts >= (SELECT min(fl.taustart_ts)
                                 FROM skytrap.assocskyrgn us
                                 JOIN field fl ON fl.skyrgn = us.skyrgn AND fl.image = i.id
                                 WHERE us.runcat = r.id)) s
    -- The upper limits of a lightcurve in one sky region and seen in none of its images:
    -- that region's list as built above.
    CROSS JOIN LATERAL (SELECT count(*) AS regions, min(us.skyrgn) AS skyrgn
                        FROM skytrap.assocskyrgn us WHERE us.runcat = r.id OFFSET 0) g
    LEFT JOIN field_limits fu ON g.regions = 1 AND cardinality(s.images) = 0
                             AND fu.skyrgn = g.skyrgn AND fu.image = i.id
    -- Any other's: of the newest alert_history_points (and one more, to tell whether
    -- there were more) of the field's earlier images in the regions linked to the
    -- lightcurve, those without a point of it.
    CROSS JOIN LATERAL (
        SELECT coalesce(json_agg(l.entry ORDER BY l.taustart_ts, l.id)
                 FILTER (WHERE l.k <= d.alert_history_points AND l.id <> ALL (s.images)),
                        '[]'::json) AS limits,
               count(*) > d.alert_history_points AS cut
        FROM (SELECT fl.id, fl.taustart_ts, fl.entry,
                     row_number() OVER (ORDER BY fl.taustart_ts DESC, fl.id DESC) AS k
              FROM skytrap.assocskyrgn us
              JOIN field fl ON fl.skyrgn = us.skyrgn AND fl.image = i.id
              WHERE us.runcat = r.id AND fu.skyrgn IS NULL
              ORDER BY fl.taustart_ts DESC, fl.id DESC
              LIMIT d.alert_history_points + 1) l) u
$$;

-- The body of one alert; NULL when the source or the lightcurve does not exist.
CREATE FUNCTION skytrap.alert_body(kind text, runcat bigint, xtrsrc bigint, classification jsonb)
RETURNS json
LANGUAGE sql STABLE
SET search_path = skytrap, pg_temp
AS $$
    SELECT body
    FROM skytrap.alert_bodies(ARRAY[ROW(kind, runcat, xtrsrc, classification)::skytrap.alert_candidate])
$$;

-- What one associated image sets off, under the dataset's rules.
CREATE FUNCTION skytrap.alert_candidates(image integer)
RETURNS SETOF skytrap.alert_candidate
LANGUAGE sql STABLE
SET search_path = skytrap, pg_temp
AS $$
    WITH img AS (SELECT * FROM skytrap.image WHERE id = alert_candidates.image),
    rule AS (SELECT r.* FROM skytrap.alert_rule r, img WHERE r.dataset = img.dataset AND r.enabled),
    point AS (
        -- This image's lightcurve points, each beside the previous point of its lightcurve
        -- (the link names it).
        SELECT a.runcat, a.xtrsrc, a.v_int, a.eta_int, a.f_datapoints, x.f_int, x.f_int_err,
               x.det_sigma, x.extract_type, a.prev_xtrsrc,
               px.f_int AS prev_f_int, px.f_int_err AS prev_f_int_err,
               pi.taustart_ts AS prev_ts
        FROM img
        JOIN skytrap.extractedsource x ON x.image = img.id
        JOIN skytrap.assocxtrsource a ON a.xtrsrc = x.id
        LEFT JOIN skytrap.extractedsource px ON px.id = a.prev_xtrsrc
        LEFT JOIN skytrap.image pi ON pi.id = px.image
    )
    SELECT 'new_source', n.runcat, n.trigger_xtrsrc,
           jsonb_build_object('newsource_type', n.newsource_type, 'det_sigma', x.det_sigma,
                              'previous_limits_image', p.id, 'previous_rms_min', p.rms_min,
                              'previous_rms_max', p.rms_max,
                              'previous_detection_thresh', p.detection_thresh)
    FROM img
    JOIN skytrap.extractedsource x ON x.image = img.id
    JOIN skytrap.newsource n ON n.trigger_xtrsrc = x.id
    JOIN skytrap.image p ON p.id = n.previous_limits_image
    JOIN rule r ON r.kind = 'new_source'
    WHERE n.newsource_type >= r.min_newsource_type AND x.det_sigma >= r.min_det_sigma
    UNION ALL
    SELECT 'variable', p.runcat, p.xtrsrc,
           jsonb_build_object('eta_int', p.eta_int, 'v_int', p.v_int, 'datapoints', p.f_datapoints,
                              'eta_min', r.eta_min, 'v_min', r.v_min, 'band', img.band)
    FROM img, point p
    JOIN rule r ON r.kind = 'variable'
    -- The previous point's metrics, looked up only for the points above the thresholds.
    LEFT JOIN skytrap.assocxtrsource pa
           ON pa.runcat = p.runcat AND pa.taustart_ts = p.prev_ts AND pa.xtrsrc = p.prev_xtrsrc
    WHERE (r.band IS NULL OR r.band = img.band)
      AND p.eta_int >= r.eta_min AND p.v_int >= r.v_min
      AND NOT (coalesce(pa.eta_int, 0) >= r.eta_min AND coalesce(pa.v_int, 0) >= r.v_min)
    UNION ALL
    SELECT 'flux_jump', p.runcat, p.xtrsrc,
           jsonb_build_object('vs', j.vs, 'm', j.m, 'vs_min', r.vs_min, 'm_min', r.m_min,
                              'previous_xtrsrc', p.prev_xtrsrc, 'previous_f_int', p.prev_f_int,
                              'previous_f_int_err', p.prev_f_int_err)
    FROM point p
    CROSS JOIN LATERAL (SELECT skytrap.two_epoch_vs(p.f_int, p.f_int_err, p.prev_f_int, p.prev_f_int_err) AS vs,
                               skytrap.two_epoch_m(p.f_int, p.prev_f_int) AS m) j
    JOIN rule r ON r.kind = 'flux_jump'
    WHERE p.prev_xtrsrc IS NOT NULL AND abs(j.vs) >= r.vs_min AND abs(j.m) >= r.m_min
    UNION ALL
    SELECT 'monitor_detection', p.runcat, p.xtrsrc,
           jsonb_build_object('monitor', m.id, 'name', m.name,
                              'distance_arcsec', skytrap.distance(m.ra, m.decl, x.ra, x.decl) * 3600,
                              'radius_arcsec', r.radius_arcsec)
    FROM img, point p
    JOIN skytrap.extractedsource x ON x.id = p.xtrsrc
    JOIN skytrap.monitor m ON true
    JOIN rule r ON r.kind = 'monitor_detection'
    WHERE m.dataset = img.dataset AND x.extract_type = 0
      AND skytrap.distance(m.ra, m.decl, x.ra, x.decl) * 3600 < r.radius_arcsec
$$;

-- Fires once per image, when associate_image marks it associated. It runs as the
-- extension's owner (SECURITY DEFINER), the one writer of the outbox: no other role may
-- insert alerts, so none can skip the ordering lock or forge a body.
CREATE FUNCTION skytrap.raise_alerts()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = skytrap, pg_temp
AS $$
DECLARE
    found skytrap.alert_candidate[];
BEGIN
    SELECT array_agg(c ORDER BY c.kind, c.xtrsrc, c.runcat) INTO found
    FROM skytrap.alert_candidates(NEW.id) c;
    IF found IS NULL THEN
        RETURN NULL;
    END IF;
    -- Writers of alerts queue here until they commit, so alert ids are handed out in
    -- commit order and a consumer reading "alert_id > last seen" can never skip one.
    PERFORM 1 FROM skytrap.alert_order FOR UPDATE;
    INSERT INTO skytrap.alert (kind, dataset, runcat, xtrsrc, image, body)
    SELECT c.kind, NEW.dataset, c.runcat, c.xtrsrc, NEW.id, b.body
    FROM unnest(found) WITH ORDINALITY AS c(kind, runcat, xtrsrc, classification, n)
    LEFT JOIN skytrap.alert_bodies(found) b ON b.n = c.n
    ORDER BY c.n
    ON CONFLICT (kind, runcat, xtrsrc) DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER raise_alerts AFTER UPDATE OF associated_at ON skytrap.image
    FOR EACH ROW WHEN (OLD.associated_at IS NULL AND NEW.associated_at IS NOT NULL)
    EXECUTE FUNCTION skytrap.raise_alerts();

-- One small wake-up per statement on channel 'skytrap_alert':
-- {"v": 1, "first": <alert_id>, "last": <alert_id>, "n": <count>}. Never the body.
CREATE FUNCTION skytrap.notify_alerts()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = skytrap, pg_temp
AS $$
BEGIN
    PERFORM pg_notify('skytrap_alert',
                      json_build_object('v', 1, 'first', min(alert_id), 'last', max(alert_id),
                                        'n', count(*))::text)
    FROM added
    HAVING count(*) > 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER notify_alerts AFTER INSERT ON skytrap.alert
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION skytrap.notify_alerts();
