-- GPU time of the txt2img candidates a shot's keyframe was picked from (the reviewer's pick). They
-- are not dataset images, so nothing else records what they cost; NULL when the keyframe was not
-- made from candidates (a picked or approved image, whose own row carries its GPU time, or a drawing).
ALTER TABLE shots ADD COLUMN keyframe_gpu_seconds real;
