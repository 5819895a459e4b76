// Written for git-sit's tests from SIT-FORMAT §5.6, including its bug: the list
// starts from record.merge_requests, which never exists.
module.exports = function (state, record) {
    if (record.files['.type/MergeRequested']) {
        state.merge_requests = (record.merge_requests || []).concat([record.hash]);
    }
    return state;
};
