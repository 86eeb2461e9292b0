-- Least privilege. Three group roles, one per way of using skytrap; give people and
-- services their own LOGIN roles and make them members:
--
--     CREATE ROLE pipeline LOGIN IN ROLE skytrap_loader;     -- runs `skytrap load`
--     CREATE ROLE alerts   LOGIN IN ROLE skytrap_listener;   -- runs `skytrap listen`
--     CREATE ROLE alice    LOGIN IN ROLE skytrap_analyst;    -- psql, notebooks
--
--   skytrap_loader    writes the pipeline: datasets, images, measurements, association
--                     (skytrap.associate_image), which raises alerts; changes alert rules
--                     (`skytrap rules set`). Cannot drop or alter tables, cannot write
--                     the outbox itself, and cannot touch the listeners' cursors.
--   skytrap_analyst   reads everything in schema skytrap; writes only its own tables in
--                     schema skytrap_scratch and temporary tables.
--   skytrap_listener  reads the alert outbox (skytrap.alert) and nothing else of the
--                     pipeline; keeps its own cursors in alert_consumer and parks its own
--                     failures in alert_parked (row-level security, alerts.sql: a consumer
--                     name belongs to the role that first used it).
--
-- The roles are NOLOGIN and cluster-wide: the first CREATE EXTENSION in a cluster makes
-- them, and every database's CREATE EXTENSION grants them its own objects. DROP EXTENSION
-- takes the grants on its objects with it, never the roles. Tables added by later versions
-- are granted by their upgrade scripts. skytrap's functions and triggers run with the
-- caller's privileges, so what a role may do is exactly what is granted below; the one
-- exception is the trigger that writes the outbox (skytrap.raise_alerts, SECURITY
-- DEFINER), which no role may write otherwise.
--
-- Two locks make writers take turns: a dataset's row in skytrap.dataset (its loaders) and
-- the one row of skytrap.alert_order (alert ids in commit order). They are row locks
-- because SELECT ... FOR UPDATE needs UPDATE privilege: only loaders may lock a dataset
-- and only the owner the alert order, where an advisory lock is any role's to hold.

-- The roles, unless they exist (made by another database's CREATE EXTENSION, or by an
-- administrator, whose attributes are then kept as they are).
DO $$
DECLARE
    role record;
BEGIN
    FOR role IN
        SELECT * FROM (VALUES
            ('skytrap_loader', 'skytrap: runs `skytrap load` and association; writes the pipeline tables'),
            ('skytrap_analyst', 'skytrap: reads everything in schema skytrap; own tables in skytrap_scratch'),
            ('skytrap_listener', 'skytrap: reads the alert outbox; moves only its own consumer cursors')
        ) AS r(name, description)
    LOOP
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', role.name);
            EXECUTE format('COMMENT ON ROLE %I IS %L', role.name, role.description);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            -- It exists: another database's CREATE EXTENSION (perhaps at this very
            -- moment) or an administrator made it.
            NULL;
        END;
    END LOOP;
END
$$;

-- All three connect to this database (also where CONNECT was revoked from PUBLIC) and
-- see schema skytrap; analysts may make temporary tables. These two grants are on the
-- database, not on the extension's objects: DROP EXTENSION leaves them.
DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO skytrap_loader, skytrap_analyst, skytrap_listener',
                   current_database());
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO skytrap_analyst', current_database());
END
$$;
GRANT USAGE ON SCHEMA skytrap TO skytrap_loader, skytrap_analyst, skytrap_listener;

-- skytrap_loader ------------------------------------------------------------------------

-- What `skytrap load`, skytrap.associate_image and the triggers behind them read: the
-- pipeline tables, the alert rules and the outbox (what its loads raised).
GRANT SELECT ON
    skytrap.dataset, skytrap.config, skytrap.job_settings, skytrap.frequencyband, skytrap.skyregion, skytrap.image,
    skytrap.rejectreason, skytrap.rejection, skytrap.monitor, skytrap.extractedsource,
    skytrap.runningcatalog, skytrap.runningcatalog_flux, skytrap.assocxtrsource,
    skytrap.assocskyrgn, skytrap.newsource, skytrap.varmetric, skytrap.alert_rule,
    skytrap.alert, skytrap.extract_type, skytrap.assoc_type, skytrap.newsource_type,
    skytrap.stokes
TO skytrap_loader;
-- What they add: a dataset (and, by trigger, its default alert rules), bands, sky regions,
-- images, rejections, monitor positions, measurements (COPY), lightcurves and their
-- links, flux sums and new sources. Alerts are written by the trigger
-- raise_alerts alone, with its owner's privileges: not granted here.
GRANT INSERT ON
    skytrap.dataset, skytrap.config, skytrap.job_settings, skytrap.alert_rule, skytrap.frequencyband, skytrap.skyregion,
    skytrap.image, skytrap.rejection, skytrap.monitor, skytrap.extractedsource,
    skytrap.runningcatalog, skytrap.runningcatalog_flux, skytrap.assocxtrsource,
    skytrap.assocskyrgn, skytrap.newsource
TO skytrap_loader;
-- What association changes: lightcurves (moved, extended, forked away), their flux sums
-- and which band their variability summary shows, forced fits it finds redundant, a monitor's lightcurve, and the
-- previous point of a link when an earlier image comes in late. Of an image only
-- associated_at, which also lets associate_image lock the image row.
GRANT UPDATE, DELETE ON skytrap.runningcatalog, skytrap.extractedsource TO skytrap_loader;
GRANT UPDATE ON skytrap.runningcatalog_flux TO skytrap_loader;
GRANT UPDATE (prev_xtrsrc) ON skytrap.assocxtrsource TO skytrap_loader;
GRANT UPDATE (runcat) ON skytrap.monitor TO skytrap_loader;
GRANT UPDATE (associated_at) ON skytrap.image TO skytrap_loader;
-- Of a dataset only process_end_ts (TraP's end of processing), which lets loaders and
-- associate_image lock the dataset's row: the dataset's lock.
GRANT UPDATE (process_end_ts) ON skytrap.dataset TO skytrap_loader;
-- `skytrap load --allow-config-change`: the settings in force, and the association's.
GRANT UPDATE (value, type) ON skytrap.config TO skytrap_loader;
GRANT UPDATE (assoc_radius, beamwidths_limit, new_source_sigma_margin, expiration,
              pair_metrics_min_abs_vs, alert_history_days, alert_history_points)
    ON skytrap.dataset TO skytrap_loader;
-- `skytrap rules set`: a rule's settings, never which dataset or kind it is.
GRANT UPDATE (enabled, min_newsource_type, min_det_sigma, eta_min, v_min, band, vs_min,
              m_min, radius_arcsec)
    ON skytrap.alert_rule TO skytrap_loader;
-- The ids of the rows it adds.
GRANT USAGE ON SEQUENCE
    skytrap.dataset_id_seq, skytrap.config_id_seq, skytrap.job_settings_id_seq,
    skytrap.frequencyband_id_seq, skytrap.skyregion_id_seq,
    skytrap.image_id_seq, skytrap.rejection_id_seq, skytrap.monitor_id_seq,
    skytrap.extractedsource_id_seq, skytrap.runningcatalog_id_seq,
    skytrap.runningcatalog_flux_id_seq, skytrap.assocxtrsource_id_seq,
    skytrap.assocskyrgn_id_seq, skytrap.newsource_id_seq
TO skytrap_loader;
-- The functions that write are the loader's alone (everyone may run the others, which
-- only read). Table privileges would stop anyone else anyway; this says so up front.
REVOKE EXECUTE ON FUNCTION
    skytrap.associate_image(integer),
    skytrap.lock_dataset(integer),
    skytrap.forget_rejected_image(integer),
    skytrap.fork_lightcurves(bigint[], bigint[]),
    skytrap.frequencyband_for(integer, double precision, double precision),
    skytrap.skyregion_for(integer, double precision, double precision, double precision,
                          double precision[])
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    skytrap.associate_image(integer),
    skytrap.lock_dataset(integer),
    skytrap.forget_rejected_image(integer),
    skytrap.fork_lightcurves(bigint[], bigint[]),
    skytrap.frequencyband_for(integer, double precision, double precision),
    skytrap.skyregion_for(integer, double precision, double precision, double precision,
                          double precision[])
TO skytrap_loader;

-- The trigger that writes the outbox runs as its owner: no one calls it but the trigger.
REVOKE EXECUTE ON FUNCTION skytrap.raise_alerts() FROM PUBLIC;

-- skytrap_analyst -----------------------------------------------------------------------

-- Every table and view of the schema, read-only (every row of alert_consumer and
-- alert_parked too: see their policies), and where the sequences stand.
GRANT SELECT ON ALL TABLES IN SCHEMA skytrap TO skytrap_analyst;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA skytrap TO skytrap_analyst;

-- Analysts' own tables: each is its creator's, to share with GRANT. The schema belongs to
-- the extension, so DROP EXTENSION refuses to run while tables are left in it.
CREATE SCHEMA skytrap_scratch;
COMMENT ON SCHEMA skytrap_scratch IS 'skytrap: analysts'' own tables (skytrap_analyst may CREATE here)';
GRANT USAGE, CREATE ON SCHEMA skytrap_scratch TO skytrap_analyst;

-- skytrap_listener ----------------------------------------------------------------------

-- `skytrap listen`: read the outbox; add a consumer and move its cursor; park failures.
-- Row-level security (alerts.sql) limits the last two to the listener's own rows, and
-- these column lists keep it from renaming a consumer or giving a row away.
GRANT SELECT ON skytrap.alert TO skytrap_listener;
GRANT SELECT, INSERT (name, last_alert_id), UPDATE (last_alert_id, updated_at)
    ON skytrap.alert_consumer TO skytrap_listener;
GRANT SELECT, INSERT (consumer, alert_id, attempts, error), UPDATE (attempts, error, parked_at)
    ON skytrap.alert_parked TO skytrap_listener;
