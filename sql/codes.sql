-- Lookup tables for the codes that TraP's tables store as plain integers, for analysts to
-- join, e.g.
--     SELECT x.id, t.name FROM skytrap.extractedsource x
--     JOIN skytrap.extract_type t ON t.id = x.extract_type;
-- No foreign key from the pipeline's tables points at them: a check on every row would
-- slow COPY and association. The numbering is extension/core/src/codes.rs's, shared by
-- the extension and the loader. Why an image was rejected is TraP's own table,
-- skytrap.rejectreason (schema.sql).

-- extractedsource.extract_type ----------------------------------------------------------

CREATE TABLE skytrap.extract_type (
    id          smallint PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL
);
INSERT INTO skytrap.extract_type (id, name, description) VALUES
    (0, 'blind', 'blind detection: found by the source finder'),
    (1, 'forced_at_lightcurve', 'forced fit at the position of a lightcurve that no blind detection in the image extended (a null detection); extractedsource.ff_runcat names the lightcurve'),
    (2, 'forced_at_monitor', 'forced fit at a monitor position; extractedsource.ff_monitor names it');
COMMENT ON TABLE skytrap.extract_type IS
    'How a measurement was made: the codes of extractedsource.extract_type (and of the lightcurve view''s extract_type). A lookup table for joins; no foreign key points at it.';
COMMENT ON COLUMN skytrap.extract_type.id IS
    'The code as extractedsource.extract_type stores it: 0 blind, 1 forced at a lightcurve, 2 forced at a monitor position.';
COMMENT ON COLUMN skytrap.extract_type.name IS
    'Short name of the code (as named in extension/core/src/codes.rs).';
COMMENT ON COLUMN skytrap.extract_type.description IS
    'What the code means.';

-- assocxtrsource.type -------------------------------------------------------------------

CREATE TABLE skytrap.assoc_type (
    id          smallint PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL
);
INSERT INTO skytrap.assoc_type (id, name, description) VALUES
    (2, 'fork_base', 'base point of a one-to-many fork: the measurement that starts a lightcurve split off a forked one'),
    (3, 'one_to_one', 'blind detection extending a lightcurve: a one-to-one association, or one link of a many-to-one'),
    (4, 'new_source', 'first point of a new lightcurve: a blind detection that matched no lightcurve'),
    (6, 'fork_copy', 'earlier point of a forked lightcurve, copied onto each lightcurve split off it (skytrap.fork_lightcurves)'),
    (7, 'null_detection', 'forced fit at a lightcurve that no blind detection in the image extended (extract_type 1)'),
    (8, 'first_monitor', 'first forced fit at a monitor position: starts the monitor''s lightcurve'),
    (9, 'monitor', 'later forced fit at a monitor position, extending the monitor''s lightcurve');
COMMENT ON TABLE skytrap.assoc_type IS
    'How a measurement joined its lightcurve: TraP''s link types, the codes of assocxtrsource.type (and of the lightcurve view''s assoc_type). A lookup table for joins; no foreign key points at it.';
COMMENT ON COLUMN skytrap.assoc_type.id IS
    'The code as assocxtrsource.type stores it: 2 fork base point, 3 one-to-one, 4 new source, 6 copied on a fork, 7 null detection, 8 first and 9 later forced fit at a monitor position (TraP''s numbering; 1 and 5 are unused).';
COMMENT ON COLUMN skytrap.assoc_type.name IS
    'Short name of the code (as named in extension/core/src/codes.rs).';
COMMENT ON COLUMN skytrap.assoc_type.description IS
    'What the code means.';

-- newsource.newsource_type --------------------------------------------------------------

CREATE TABLE skytrap.newsource_type (
    id          smallint PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL
);
INSERT INTO skytrap.newsource_type (id, name, description) VALUES
    (0, 'possible', 'possible transient: brighter than the earlier image''s limit at its lowest noise, but not at its highest (perhaps a steady source in a noisy part of that image)'),
    (1, 'likely', 'likely transient: brighter than the earlier image''s limit even at its highest noise');
COMMENT ON TABLE skytrap.newsource_type IS
    'TraP''s classes of transient candidate: the codes of newsource.newsource_type and alert_rule.min_newsource_type. A lookup table for joins; no foreign key points at it.';
COMMENT ON COLUMN skytrap.newsource_type.id IS
    'The code as newsource.newsource_type stores it: 0 possible transient, 1 likely transient.';
COMMENT ON COLUMN skytrap.newsource_type.name IS
    'Short name of the code.';
COMMENT ON COLUMN skytrap.newsource_type.description IS
    'What the code means.';

-- image.stokes --------------------------------------------------------------------------

CREATE TABLE skytrap.stokes (
    id          smallint PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL
);
INSERT INTO skytrap.stokes (id, name, description) VALUES
    (1, 'I', 'Stokes I: total intensity'),
    (2, 'Q', 'Stokes Q: linear polarisation'),
    (3, 'U', 'Stokes U: linear polarisation'),
    (4, 'V', 'Stokes V: circular polarisation');
COMMENT ON TABLE skytrap.stokes IS
    'Stokes parameters as numbered on a FITS STOKES axis: the codes of image.stokes and runningcatalog_flux.stokes (and of the lightcurve view''s stokes). A lookup table for joins; no foreign key points at it.';
COMMENT ON COLUMN skytrap.stokes.id IS
    'The code as image.stokes stores it: 1 I, 2 Q, 3 U, 4 V.';
COMMENT ON COLUMN skytrap.stokes.name IS
    'The Stokes parameter''s letter.';
COMMENT ON COLUMN skytrap.stokes.description IS
    'What the parameter measures.';
