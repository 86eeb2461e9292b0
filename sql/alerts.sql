-- The alert outbox. A newsource row and its alert are written by the same transaction, so
-- an alert exists if and only if its data does. NOTIFY only wakes consumers up: they read
-- the outbox by alert_id, because a notification sent while they are away is lost.

CREATE TABLE skytrap.alert (
    alert_id       bigserial PRIMARY KEY,
    created_at     timestamptz NOT NULL DEFAULT now(),
    kind           text NOT NULL CHECK (kind IN ('new_source')),
    dataset        integer NOT NULL REFERENCES skytrap.dataset (id) ON DELETE CASCADE,
    runcat         bigint NOT NULL,
    xtrsrc         bigint NOT NULL,
    image          integer NOT NULL,
    schema_version smallint NOT NULL DEFAULT 1,
    body           jsonb NOT NULL
);
CREATE INDEX ON skytrap.alert (dataset, runcat);

-- Body of a new-source alert, version 1, shaped like an LSST/ZTF packet: the triggering
-- measurement, the lightcurve object, and why it is new.
CREATE FUNCTION skytrap.new_source_alert_body(newsource bigint)
RETURNS jsonb
LANGUAGE sql STABLE STRICT
AS $$
    SELECT jsonb_build_object(
        'schema_version', 1,
        'kind', 'new_source',
        'dataset', jsonb_build_object('id', d.id, 'description', d.description),
        'source', jsonb_build_object(
            'id', x.id, 'ra', x.ra, 'dec', x.decl, 'ra_err', x.ra_err, 'dec_err', x.decl_err,
            'f_peak', x.f_peak, 'f_peak_err', x.f_peak_err, 'f_int', x.f_int,
            'f_int_err', x.f_int_err, 'det_sigma', x.det_sigma,
            'image', i.id, 'url', i.url, 'taustart_ts', i.taustart_ts,
            'freq_eff', i.freq_eff, 'band', i.band, 'stokes', i.stokes),
        'object', jsonb_build_object(
            'runcat', r.id, 'wm_ra', r.wm_ra, 'wm_decl', r.wm_decl,
            'wm_uncertainty_ew', r.wm_uncertainty_ew, 'wm_uncertainty_ns', r.wm_uncertainty_ns,
            'datapoints', r.datapoints),
        'classification', jsonb_build_object(
            'newsource_type', n.newsource_type,
            'previous_limits_image', p.id,
            'previous_rms_min', p.rms_min,
            'previous_rms_max', p.rms_max,
            'previous_detection_thresh', p.detection_thresh))
    FROM skytrap.newsource n
    JOIN skytrap.extractedsource x ON x.id = n.trigger_xtrsrc
    JOIN skytrap.image i ON i.id = x.image
    JOIN skytrap.dataset d ON d.id = i.dataset
    JOIN skytrap.runningcatalog r ON r.id = n.runcat
    JOIN skytrap.image p ON p.id = n.previous_limits_image
    WHERE n.id = new_source_alert_body.newsource
$$;

-- Every new source queues an alert.
CREATE FUNCTION skytrap.queue_new_source_alerts()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO skytrap.alert (kind, dataset, runcat, xtrsrc, image, body)
    SELECT 'new_source', x_image.dataset, added.runcat, added.trigger_xtrsrc, x.image,
           skytrap.new_source_alert_body(added.id)
    FROM added
    JOIN skytrap.extractedsource x ON x.id = added.trigger_xtrsrc
    JOIN skytrap.image x_image ON x_image.id = x.image
    ORDER BY added.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER queue_alerts AFTER INSERT ON skytrap.newsource
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION skytrap.queue_new_source_alerts();

-- One small wake-up per statement on channel 'skytrap_alert':
-- {"v": 1, "first": <alert_id>, "last": <alert_id>, "n": <count>}.
CREATE FUNCTION skytrap.notify_alerts()
RETURNS trigger
LANGUAGE plpgsql
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
