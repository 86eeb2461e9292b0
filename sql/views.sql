-- Views for analysts.

-- Every point of every lightcurve, in time order per source: the query TraP users know as
-- tkp.db.general.lightcurve, for all sources at once. prev_xtrsrc is the point before in
-- the same band and Stokes parameter (NULL for the first), so that comparing each point
-- with the one before is a join by key.
CREATE VIEW skytrap.lightcurve AS
SELECT a.runcat,
       r.dataset,
       x.id AS xtrsrc,
       i.id AS image,
       i.taustart_ts,
       i.band,
       b.freq_central,
       i.stokes,
       x.ra,
       x.decl,
       x.f_peak,
       x.f_peak_err,
       x.f_int,
       x.f_int_err,
       x.det_sigma,
       x.extract_type,
       a.type AS assoc_type,
       a.v_int,
       a.eta_int,
       a.prev_xtrsrc
FROM skytrap.assocxtrsource a
JOIN skytrap.runningcatalog r ON r.id = a.runcat
JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
JOIN skytrap.image i ON i.id = x.image
JOIN skytrap.frequencyband b ON b.id = i.band;
