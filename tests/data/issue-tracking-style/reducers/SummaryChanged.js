// Written for git-sit's tests from SIT-FORMAT §5.6.
module.exports = function (state, record) {
    var files = record.files, decoder = new TextDecoder('utf-8');
    if (files['.type/SummaryChanged']) {
        state.authors = state.authors || decoder.decode(files['.authors']);
        state.summary = decoder.decode(files.text).trim();
        state.timestamp = state.timestamp || decoder.decode(files['.timestamp']);
    }
    return state;
};
