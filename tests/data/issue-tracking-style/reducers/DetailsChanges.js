// Written for git-sit's tests from SIT-FORMAT §5.6.
module.exports = function (state, record) {
    var files = record.files, decoder = new TextDecoder('utf-8');
    if (files['.type/DetailsChanged'] === undefined) {
        return state;
    }
    return Object.assign(state, {
        authors: state.authors || decoder.decode(files['.authors']),
        merge_request: files['.type/MergeRequested'] ? record.hash : state.merge_request,
        details: decoder.decode(files.text).trim(),
        timestamp: state.timestamp || decoder.decode(files['.timestamp'])
    });
};
