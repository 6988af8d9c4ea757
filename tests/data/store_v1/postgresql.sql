-- Made by tests/data/make_store_v1.py with schema version 1's code.

CREATE TABLE alerts (
	id SERIAL NOT NULL, 
	key VARCHAR(300) NOT NULL, 
	kind VARCHAR(40) NOT NULL, 
	channel VARCHAR(20), 
	post_id VARCHAR(200), 
	message TEXT NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	delivered_at TIMESTAMP WITH TIME ZONE, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_alerts_key ON alerts (key);

CREATE TABLE channel_states (
	channel VARCHAR(20) NOT NULL, 
	paused_reason TEXT, 
	paused_at TIMESTAMP WITH TIME ZONE, 
	last_auth_check_at TIMESTAMP WITH TIME ZONE, 
	cooldown_until TIMESTAMP WITH TIME ZONE, 
	cooldown_reason TEXT, 
	PRIMARY KEY (channel)
);

CREATE TABLE heartbeats (
	name VARCHAR(40) NOT NULL, 
	holder VARCHAR(200) NOT NULL, 
	mode VARCHAR(20) NOT NULL, 
	started_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	beat_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	stopped_at TIMESTAMP WITH TIME ZONE, 
	next_due_at TIMESTAMP WITH TIME ZONE, 
	jobs INTEGER NOT NULL, 
	PRIMARY KEY (name)
);

CREATE TABLE publications (
	id SERIAL NOT NULL, 
	post_id VARCHAR(200) NOT NULL, 
	channel VARCHAR(20) NOT NULL, 
	mode VARCHAR(10) NOT NULL, 
	language VARCHAR(20), 
	tags VARCHAR(500), 
	state VARCHAR(20) NOT NULL, 
	due_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	next_attempt_at TIMESTAMP WITH TIME ZONE, 
	attempt_count INTEGER NOT NULL, 
	fingerprint VARCHAR(64), 
	caption TEXT, 
	media_json TEXT, 
	link TEXT, 
	first_comment TEXT, 
	remote_id VARCHAR(200), 
	url TEXT, 
	claimed_at TIMESTAMP WITH TIME ZONE, 
	claimed_by VARCHAR(200), 
	published_at TIMESTAMP WITH TIME ZONE, 
	last_error TEXT, 
	warnings TEXT, 
	sampling_stopped TEXT, 
	updated_at TIMESTAMP WITH TIME ZONE, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_publication_post_channel_mode UNIQUE (post_id, channel, mode)
);
CREATE INDEX ix_publications_published ON publications (state, mode, published_at, id);
CREATE INDEX ix_publications_state_next ON publications (state, next_attempt_at);

CREATE TABLE store_info (
	key VARCHAR(40) NOT NULL, 
	value VARCHAR(200) NOT NULL, 
	PRIMARY KEY (key)
);

CREATE TABLE attempts (
	id SERIAL NOT NULL, 
	publication_id INTEGER NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	started_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	finished_at TIMESTAMP WITH TIME ZONE, 
	outcome VARCHAR(20), 
	error_class VARCHAR(20), 
	platform_code VARCHAR(40), 
	platform_subcode VARCHAR(40), 
	message TEXT, 
	claimed_by VARCHAR(200), 
	PRIMARY KEY (id), 
	FOREIGN KEY(publication_id) REFERENCES publications (id)
);
CREATE INDEX ix_attempts_publication_id ON attempts (publication_id);

CREATE TABLE samples (
	id SERIAL NOT NULL, 
	publication_id INTEGER NOT NULL, 
	taken_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	age_seconds INTEGER NOT NULL, 
	target_age_seconds INTEGER NOT NULL, 
	reactions INTEGER, 
	comments INTEGER, 
	shares INTEGER, 
	saves INTEGER, 
	views INTEGER, 
	reach INTEGER, 
	clicks INTEGER, 
	raw_json TEXT, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_sample_age UNIQUE (publication_id, target_age_seconds), 
	FOREIGN KEY(publication_id) REFERENCES publications (id)
);
CREATE INDEX ix_samples_publication_taken ON samples (publication_id, taken_at, id);

INSERT INTO alerts (id, key, kind, channel, post_id, message, created_at, delivered_at) VALUES (1, 'warning:2026-09-15-demokrati:instagram:first comment', 'warning', 'instagram', '2026-09-15-demokrati', '2026-09-15-demokrati on instagram is online, but: the first comment was not posted', '2026-09-15 08:00:03+00:00', '2026-09-15 08:01:00+00:00');
INSERT INTO alerts (id, key, kind, channel, post_id, message, created_at, delivered_at) VALUES (2, 'failed:2026-09-16-bibliotek:facebook', 'failed', 'facebook', '2026-09-16-bibliotek', '2026-09-16-bibliotek was not published on facebook: the photo could not be read', '2026-09-16 08:02:01+00:00', NULL);
INSERT INTO alerts (id, key, kind, channel, post_id, message, created_at, delivered_at) VALUES (3, 'unknown:2026-09-17-kultur:instagram', 'unknown', 'instagram', '2026-09-17-kultur', '2026-09-17-kultur on instagram: whether it went out is not known yet', '2026-09-17 08:05:00+00:00', NULL);
INSERT INTO alerts (id, key, kind, channel, post_id, message, created_at, delivered_at) VALUES (4, 'missed:2026-09-20-marknad:instagram', 'missed', 'instagram', '2026-09-20-marknad', '2026-09-20-marknad was due on instagram but could not go out in time', '2026-09-20 11:00:00+00:00', NULL);
INSERT INTO alerts (id, key, kind, channel, post_id, message, created_at, delivered_at) VALUES (5, 'paused:instagram', 'paused', 'instagram', NULL, 'instagram is paused: nothing more is sent there until a human acts.', '2026-09-19 08:00:00+00:00', NULL);
SELECT setval(pg_get_serial_sequence('alerts', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM alerts), false);
INSERT INTO channel_states (channel, paused_reason, paused_at, last_auth_check_at, cooldown_until, cooldown_reason) VALUES ('facebook', NULL, NULL, NULL, '2026-09-19 09:00:00+00:00', 'rate limited (code 4)');
INSERT INTO channel_states (channel, paused_reason, paused_at, last_auth_check_at, cooldown_until, cooldown_reason) VALUES ('instagram', 'the session has expired: log in again', '2026-09-19 08:00:00+00:00', '2026-09-19 08:00:00+00:00', NULL, NULL);
INSERT INTO heartbeats (name, holder, mode, started_at, beat_at, stopped_at, next_due_at, jobs) VALUES ('daemon', 'kampanj-01:4242:9f3c', 'live', '2026-09-14 08:00:00+00:00', '2026-09-20 11:00:00+00:00', NULL, '2026-10-01 08:00:00+00:00', 2);
INSERT INTO publications (id, post_id, channel, mode, language, tags, state, due_at, next_attempt_at, attempt_count, fingerprint, caption, media_json, link, first_comment, remote_id, url, claimed_at, claimed_by, published_at, last_error, warnings, sampling_stopped, updated_at) VALUES (1, '2026-09-15-demokrati', 'facebook', 'live', 'sv', ',demokrati,val,', 'published', '2026-09-15 08:00:00+00:00', NULL, 1, 'bdd086051c879a8775c27853c13b0e103b89b938f3f3b57ed7e076bec98fb561', 'Idag är det demokratins dag.
#demokrati100', '[{"file": "2026-09-15-demokrati-facebook.jpg", "alt": "Bild till 2026-09-15-demokrati", "sha256": "0550dc74f260991adbb06247efb1cf6bb325f23a51027c49e5ea0b8f3ed13521"}]', 'https://www.sodertalje.se/demokrati', NULL, 'facebook-1789_2026', 'https://www.facebook.com/p/1789_2026', '2026-09-15 08:00:00+00:00', 'kampanj-01:4242:9f3c', '2026-09-15 08:00:02+00:00', NULL, NULL, NULL, '2026-09-15 08:00:02+00:00');
INSERT INTO publications (id, post_id, channel, mode, language, tags, state, due_at, next_attempt_at, attempt_count, fingerprint, caption, media_json, link, first_comment, remote_id, url, claimed_at, claimed_by, published_at, last_error, warnings, sampling_stopped, updated_at) VALUES (2, '2026-09-15-demokrati', 'instagram', 'live', 'sv', ',demokrati,val,', 'published', '2026-09-15 08:00:00+00:00', NULL, 1, '1749f766a0fed13861a00397f8175daf6ef53b2aa66143a8a26ef43c119bbb01', 'Idag är det demokratins dag.
#demokrati100', '[{"file": "2026-09-15-demokrati-instagram.jpg", "alt": "Bild till 2026-09-15-demokrati", "sha256": "b16f2c0453d8e9a88c2643c4dc76ba094b405149228fd8ee9a367aa4c8b99e49"}]', NULL, 'Läs mer på sodertalje.se/demokrati', 'instagram-1789_2026', 'https://www.instagram.com/p/1789_2026', '2026-09-15 08:00:00+00:00', 'kampanj-01:4242:9f3c', '2026-09-15 08:00:02+00:00', NULL, NULL, NULL, '2026-09-15 08:00:02+00:00');
INSERT INTO publications (id, post_id, channel, mode, language, tags, state, due_at, next_attempt_at, attempt_count, fingerprint, caption, media_json, link, first_comment, remote_id, url, claimed_at, claimed_by, published_at, last_error, warnings, sampling_stopped, updated_at) VALUES (3, '2026-09-16-bibliotek', 'facebook', 'live', 'sv', NULL, 'failed', '2026-09-16 08:00:00+00:00', NULL, 2, 'b07e701417482109b7945ac334e6b0f5e7888aa509ad109cb2a8291fdc1e441d', 'Bibblan!', '[{"file": "2026-09-16-bibliotek-facebook.jpg", "alt": "Bild till 2026-09-16-bibliotek", "sha256": "e5968512ba6d7fd56f40ef9aa4a26f1f1763659d8e1c41caf97fdbda15b43dca"}]', NULL, NULL, NULL, NULL, '2026-09-16 08:02:00+00:00', 'kampanj-01:4242:9f3c', NULL, 'the photo could not be read (code 324)', NULL, NULL, '2026-09-16 08:02:01+00:00');
INSERT INTO publications (id, post_id, channel, mode, language, tags, state, due_at, next_attempt_at, attempt_count, fingerprint, caption, media_json, link, first_comment, remote_id, url, claimed_at, claimed_by, published_at, last_error, warnings, sampling_stopped, updated_at) VALUES (4, '2026-09-17-kultur', 'instagram', 'live', 'sv', NULL, 'unknown', '2026-09-17 08:00:00+00:00', NULL, 1, '404baa01861dffb71d28bdad021a9db99b949003fdc3ea79f00e3a1f99d390b2', 'Kulturnatten', '[{"file": "2026-09-17-kultur-instagram.jpg", "alt": "Bild till 2026-09-17-kultur", "sha256": "d98983af535591be44f54f7f9e43326f7974fdae040da09b20b9ce799edffaaf"}]', NULL, NULL, NULL, NULL, '2026-09-17 08:00:00+00:00', 'kampanj-01:4242:9f3c', NULL, 'no answer within 60 s', NULL, NULL, '2026-09-17 08:05:00+00:00');
INSERT INTO publications (id, post_id, channel, mode, language, tags, state, due_at, next_attempt_at, attempt_count, fingerprint, caption, media_json, link, first_comment, remote_id, url, claimed_at, claimed_by, published_at, last_error, warnings, sampling_stopped, updated_at) VALUES (5, '2026-09-18-ungdom', 'facebook', 'live', 'sv', NULL, 'publishing', '2026-09-18 08:00:00+00:00', NULL, 1, '042b80a107c2e89dc3a06c4ba3152debd6d413dcfbba3a4a847b4645dd2e2e41', 'Fritidsgården öppnar', '[{"file": "2026-09-18-ungdom-facebook.jpg", "alt": "Bild till 2026-09-18-ungdom", "sha256": "a1a616a2480be5c476888f1a10bca20eddb20dedf3d5395717c240ece333a282"}]', NULL, NULL, NULL, NULL, '2026-09-18 08:00:00+00:00', 'kampanj-01:4242:9f3c', NULL, NULL, NULL, NULL, '2026-09-18 08:00:00+00:00');
INSERT INTO publications (id, post_id, channel, mode, language, tags, state, due_at, next_attempt_at, attempt_count, fingerprint, caption, media_json, link, first_comment, remote_id, url, claimed_at, claimed_by, published_at, last_error, warnings, sampling_stopped, updated_at) VALUES (6, '2026-09-19-raddning', 'facebook', 'live', 'sv', NULL, 'scheduled', '2026-09-19 08:00:00+00:00', '2026-09-19 08:30:00+00:00', 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2026-09-19 08:00:00+00:00');
INSERT INTO publications (id, post_id, channel, mode, language, tags, state, due_at, next_attempt_at, attempt_count, fingerprint, caption, media_json, link, first_comment, remote_id, url, claimed_at, claimed_by, published_at, last_error, warnings, sampling_stopped, updated_at) VALUES (7, '2026-10-01-hosten', 'instagram', 'live', NULL, NULL, 'scheduled', '2026-10-01 08:00:00+00:00', NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2026-09-14 08:00:00+00:00');
INSERT INTO publications (id, post_id, channel, mode, language, tags, state, due_at, next_attempt_at, attempt_count, fingerprint, caption, media_json, link, first_comment, remote_id, url, claimed_at, claimed_by, published_at, last_error, warnings, sampling_stopped, updated_at) VALUES (8, '2026-09-20-marknad', 'instagram', 'live', NULL, NULL, 'missed', '2026-09-20 08:00:00+00:00', NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'missed: more than 2 h late', NULL, NULL, '2026-09-20 11:00:00+00:00');
INSERT INTO publications (id, post_id, channel, mode, language, tags, state, due_at, next_attempt_at, attempt_count, fingerprint, caption, media_json, link, first_comment, remote_id, url, claimed_at, claimed_by, published_at, last_error, warnings, sampling_stopped, updated_at) VALUES (9, '2026-09-15-demokrati', 'facebook', 'dry_run', 'sv', NULL, 'published', '2026-09-15 08:00:00+00:00', NULL, 1, '0b8d09672b0dc3fd9adf1a17a63c47d7f24c0561ad42137347759ed9c8b77545', 'Repetition', '[{"file": "2026-09-15-demokrati-facebook.jpg", "alt": "Bild till 2026-09-15-demokrati", "sha256": "0550dc74f260991adbb06247efb1cf6bb325f23a51027c49e5ea0b8f3ed13521"}]', NULL, NULL, 'outbox-0001', NULL, '2026-09-15 08:00:00+00:00', 'kampanj-01:4242:9f3c', '2026-09-15 08:00:00+00:00', NULL, NULL, NULL, '2026-09-15 08:00:00+00:00');
SELECT setval(pg_get_serial_sequence('publications', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM publications), false);
INSERT INTO store_info (key, value) VALUES ('schema_version', '1');
INSERT INTO attempts (id, publication_id, kind, started_at, finished_at, outcome, error_class, platform_code, platform_subcode, message, claimed_by) VALUES (1, 1, 'publish', '2026-09-15 08:00:00+00:00', '2026-09-15 08:00:02+00:00', 'published', NULL, NULL, NULL, NULL, 'kampanj-01:4242:9f3c');
INSERT INTO attempts (id, publication_id, kind, started_at, finished_at, outcome, error_class, platform_code, platform_subcode, message, claimed_by) VALUES (2, 2, 'publish', '2026-09-15 08:00:00+00:00', '2026-09-15 08:00:02+00:00', 'published', NULL, NULL, NULL, NULL, 'kampanj-01:4242:9f3c');
INSERT INTO attempts (id, publication_id, kind, started_at, finished_at, outcome, error_class, platform_code, platform_subcode, message, claimed_by) VALUES (3, 3, 'publish', '2026-09-16 08:00:00+00:00', '2026-09-16 08:00:31+00:00', 'retry', 'transient', '2', NULL, 'Facebook is temporarily unavailable', 'kampanj-01:4242:9f3c');
INSERT INTO attempts (id, publication_id, kind, started_at, finished_at, outcome, error_class, platform_code, platform_subcode, message, claimed_by) VALUES (4, 3, 'publish', '2026-09-16 08:02:00+00:00', '2026-09-16 08:02:01+00:00', 'failed', 'permanent', '324', '2069019', 'the photo could not be read (code 324)', 'kampanj-01:4242:9f3c');
INSERT INTO attempts (id, publication_id, kind, started_at, finished_at, outcome, error_class, platform_code, platform_subcode, message, claimed_by) VALUES (5, 4, 'publish', '2026-09-17 08:00:00+00:00', '2026-09-17 08:05:00+00:00', 'unknown', 'unknown', NULL, NULL, 'no answer within 60 s', 'kampanj-01:4242:9f3c');
INSERT INTO attempts (id, publication_id, kind, started_at, finished_at, outcome, error_class, platform_code, platform_subcode, message, claimed_by) VALUES (6, 5, 'publish', '2026-09-18 08:00:00+00:00', NULL, NULL, NULL, NULL, NULL, NULL, 'kampanj-01:4242:9f3c');
INSERT INTO attempts (id, publication_id, kind, started_at, finished_at, outcome, error_class, platform_code, platform_subcode, message, claimed_by) VALUES (7, 9, 'publish', '2026-09-15 08:00:00+00:00', '2026-09-15 08:00:00+00:00', 'published', NULL, NULL, NULL, NULL, 'kampanj-01:4242:9f3c');
SELECT setval(pg_get_serial_sequence('attempts', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM attempts), false);
INSERT INTO samples (id, publication_id, taken_at, age_seconds, target_age_seconds, reactions, comments, shares, saves, views, reach, clicks, raw_json) VALUES (1, 1, '2026-09-15 09:00:40+00:00', 3638, 3600, 12, 2, 1, NULL, 168, 108, 3, '{"likes": 12}');
INSERT INTO samples (id, publication_id, taken_at, age_seconds, target_age_seconds, reactions, comments, shares, saves, views, reach, clicks, raw_json) VALUES (2, 1, '2026-09-16 08:00:40+00:00', 86438, 86400, 57, 9, 5, NULL, 798, 513, 14, '{"likes": 57}');
INSERT INTO samples (id, publication_id, taken_at, age_seconds, target_age_seconds, reactions, comments, shares, saves, views, reach, clicks, raw_json) VALUES (3, 2, '2026-09-15 09:00:40+00:00', 3638, 3600, 12, 2, NULL, 1, 168, 108, NULL, '{"likes": 12}');
INSERT INTO samples (id, publication_id, taken_at, age_seconds, target_age_seconds, reactions, comments, shares, saves, views, reach, clicks, raw_json) VALUES (4, 2, '2026-09-16 08:00:40+00:00', 86438, 86400, 57, 9, NULL, 7, 798, 513, NULL, '{"likes": 57}');
SELECT setval(pg_get_serial_sequence('samples', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM samples), false);
