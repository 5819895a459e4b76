// An issue-tracking-style reducer written for git-sit's tests from SIT-FORMAT §5.6.
module.exports = function (state, record) {
    var files = record.files, decoder = new TextDecoder('utf-8');
    this.comments = this.comments || [];
    if (files['.type/Merged'] !== undefined) {
        var merged = files.record !== undefined ? decoder.decode(files.record) : (state.merge_request || '');
        this.comments.push({
            text: ('Merged ' + merged).trim(),
            authors: decoder.decode(files['.authors']),
            timestamp: decoder.decode(files['.timestamp'])
        });
        state.comments = this.comments;
    }
    if (files['.type/Commented'] !== undefined) {
        var report = null;
        if (files['.type/MergeRequestVerificationSucceeded']) {
            report = 'success';
        } else if (files['.type/MergeRequestVerificationFailed']) {
            report = 'failure';
        }
        this.comments.push({
            text: decoder.decode(files.text),
            authors: decoder.decode(files['.authors']),
            timestamp: decoder.decode(files['.timestamp']),
            merge_request: files['.type/MergeRequested'] ? record.hash : null,
            merge_request_report: report
        });
        state.comments = this.comments;
    }
    return state;
};
