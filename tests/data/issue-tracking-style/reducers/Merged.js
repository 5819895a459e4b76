// Written for git-sit's tests from SIT-FORMAT §5.6.
module.exports = function (state, record) {
    var files = record.files;
    this.merges = this.merges || [];
    if (files['.type/Merged']) {
        var merged = files.record ? new TextDecoder('utf-8').decode(files.record) : (state.merge_request || '');
        this.merges.push({hash: record.hash, record: merged});
        state.merges = this.merges;
    }
    return state;
};
