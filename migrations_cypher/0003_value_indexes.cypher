// Range indexes on the value of the base types, the most common filter of all.
CREATE INDEX int_value IF NOT EXISTS FOR (n:Int) ON (n.`attributes.value`);
CREATE INDEX float_value IF NOT EXISTS FOR (n:Float) ON (n.`attributes.value`);
CREATE INDEX str_value IF NOT EXISTS FOR (n:Str) ON (n.`attributes.value`);
CREATE INDEX bool_value IF NOT EXISTS FOR (n:Bool) ON (n.`attributes.value`);
